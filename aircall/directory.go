package aircall

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
)

// directoryLoadTimeout bounds one reload of the directory. A reload runs
// detached from the caller that started it, so one impatient caller cannot
// fail the lookups of everyone sharing the reload.
const directoryLoadTimeout = 2 * time.Minute

// directory caches the company's users by lowercased email. Reloads are
// shared: however many lookups need one at the same moment, one listing runs
// and they all wait for it (singleflight). A failed reload keeps the previous
// entries, so a known agent is still found while Aircall is unavailable; and
// for minMiss after a failed reload no other one starts, so that during an
// outage every lookup does not start a full paginated listing: hits are
// served from the last good directory, misses get the reload's error.
type directory struct {
	list func(context.Context) ([]User, error)
	now  func() time.Time

	mu          sync.Mutex
	ttl         time.Duration
	minMiss     time.Duration
	users       map[string]User
	loadedAt    time.Time // last successful load; zero: never
	lastRefresh time.Time // start of the reload in progress, else end of the last one
	lastErr     error     // error of the last reload; nil after a success
	flight      *reload   // the reload in progress, if any
	gen         int       // bumped by invalidate: older reloads are not stored
}

type reload struct {
	done  chan struct{}
	err   error           // set before done is closed
	users map[string]User // the listing, set before done is closed
}

func newDirectory() *directory {
	return &directory{now: time.Now, ttl: DefaultDirectoryTTL, minMiss: DefaultDirectoryMinRefresh}
}

func (d *directory) setOptions(o DirectoryOptions) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ttl, d.minMiss = DefaultDirectoryTTL, DefaultDirectoryMinRefresh
	if o.TTL > 0 {
		d.ttl = o.TTL
	}
	if o.MinRefreshInterval > 0 {
		d.minMiss = o.MinRefreshInterval
	}
}

func (d *directory) invalidate() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users, d.loadedAt, d.lastRefresh, d.lastErr = nil, time.Time{}, time.Time{}, nil
	// A reload already running listed the old directory: it must not be
	// stored as fresh. Later lookups start a new one.
	d.gen++
	d.flight = nil
}

// find returns the user whose lowercased email is key.
func (d *directory) find(ctx context.Context, key string) (*User, error) {
	d.mu.Lock()
	now := d.now()
	fresh := !d.loadedAt.IsZero() && now.Sub(d.loadedAt) < d.ttl
	recent := d.flight == nil && now.Sub(d.lastRefresh) < d.minMiss
	backoff := recent && d.lastErr != nil // the last reload failed a moment ago
	if u, ok := d.users[key]; ok && (fresh || backoff) {
		d.mu.Unlock()
		return &u, nil
	}
	if backoff {
		err := d.lastErr
		d.mu.Unlock()
		return nil, err
	}
	if fresh && recent {
		d.mu.Unlock()
		return nil, notFound(key)
	}
	f := d.startLocked(ctx, now)
	d.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		// The reload goes on for the others sharing it.
		return nil, &telephony.Error{Kind: telephony.ErrUnavailable, Provider: telephony.ProviderAircall, Op: "FindByEmail",
			Message: "the context ended while the user directory was loading", Err: ctx.Err()}
	}
	u, ok := f.users[key] // this reload's own listing, even if invalidated since
	if f.err != nil {
		// The reload failed: a known agent is still found in the last
		// good directory.
		d.mu.Lock()
		u, ok = d.users[key]
		d.mu.Unlock()
	}
	switch {
	case ok:
		return &u, nil
	case f.err != nil:
		return nil, f.err
	}
	return nil, notFound(key)
}

// startLocked joins the reload in progress or starts one. d.mu is held.
func (d *directory) startLocked(ctx context.Context, now time.Time) *reload {
	if d.flight != nil {
		return d.flight
	}
	f := &reload{done: make(chan struct{})}
	d.flight, d.lastRefresh = f, now
	gen := d.gen
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), directoryLoadTimeout)
	go func() {
		defer cancel()
		users, err := d.list(lctx)
		var m map[string]User
		if err == nil {
			m = make(map[string]User, len(users))
			for _, u := range users {
				k := emailKey(u.Email)
				if _, dup := m[k]; !dup && k != "" {
					m[k] = u
				}
			}
		}
		f.users, f.err = m, err
		d.mu.Lock()
		if d.gen == gen {
			if err == nil {
				d.users, d.loadedAt = m, d.now()
			}
			// The minimum interval runs from the end of the reload: a
			// listing that took long (or failed after retries) must not
			// be started again at once.
			d.lastRefresh = d.now()
			d.lastErr = err
			d.flight = nil
		}
		d.mu.Unlock()
		close(f.done)
	}()
	return f
}

func notFound(email string) error {
	return &telephony.Error{Kind: telephony.ErrNotFound, Provider: telephony.ProviderAircall, Op: "FindByEmail",
		Message: fmt.Sprintf("no Aircall user with email %q", email)}
}
