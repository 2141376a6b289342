package aircall

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

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

	reloads singleflight.Group // keyed by gen: an invalidated reload is not joined

	mu          sync.Mutex
	ttl         time.Duration
	minMiss     time.Duration
	users       map[string]User
	loadedAt    time.Time // last successful load; zero: never
	lastRefresh time.Time // start of the reload in progress, else end of the last one
	lastErr     error     // error of the last reload; nil after a success
	loading     bool      // a reload of generation gen is in progress
	gen         int       // bumped by invalidate: older reloads are not stored
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
	// stored as fresh. Later lookups start a new one (a new key).
	d.gen++
	d.loading = false
}

// find returns the user whose lowercased email is key.
func (d *directory) find(ctx context.Context, key string) (*User, error) {
	d.mu.Lock()
	now := d.now()
	fresh := !d.loadedAt.IsZero() && now.Sub(d.loadedAt) < d.ttl
	recent := !d.loading && now.Sub(d.lastRefresh) < d.minMiss
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
	if !d.loading {
		d.loading, d.lastRefresh = true, now
	}
	gen := d.gen
	d.mu.Unlock()

	// The reload runs detached from the caller that started it (DoChan runs
	// it in its own goroutine), so one impatient caller cannot fail the
	// lookups of everyone sharing it.
	ch := d.reloads.DoChan(strconv.Itoa(gen), func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), directoryLoadTimeout)
		defer cancel()
		return d.reload(lctx, gen)
	})
	var res singleflight.Result
	select {
	case res = <-ch:
	case <-ctx.Done():
		// The reload goes on for the others sharing it.
		return nil, &telephony.Error{Kind: telephony.ErrUnavailable, Provider: telephony.ProviderAircall, Op: "FindByEmail",
			Message: "the context ended while the user directory was loading", Err: ctx.Err()}
	}
	listed, _ := res.Val.(map[string]User)
	u, ok := listed[key] // this reload's own listing, even if invalidated since
	if res.Err != nil {
		// The reload failed: a known agent is still found in the last
		// good directory.
		d.mu.Lock()
		u, ok = d.users[key]
		d.mu.Unlock()
	}
	switch {
	case ok:
		return &u, nil
	case res.Err != nil:
		return nil, res.Err
	}
	return nil, notFound(key)
}

// reload lists the users and, unless the directory was invalidated since
// generation gen started, stores them.
func (d *directory) reload(ctx context.Context, gen int) (map[string]User, error) {
	users, err := d.list(ctx)
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
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gen == gen {
		if err == nil {
			d.users, d.loadedAt = m, d.now()
		}
		// The minimum interval runs from the end of the reload: a listing
		// that took long (or failed after retries) must not be started
		// again at once.
		d.lastRefresh = d.now()
		d.lastErr = err
		d.loading = false
	}
	return m, err
}

func notFound(email string) error {
	return &telephony.Error{Kind: telephony.ErrNotFound, Provider: telephony.ProviderAircall, Op: "FindByEmail",
		Message: fmt.Sprintf("no Aircall user with email %q", email)}
}
