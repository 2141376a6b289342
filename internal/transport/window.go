package transport

import (
	"context"
	"time"

	"github.com/switchboard-go/switchboard/telephony/state"
	"golang.org/x/time/rate"
)

// windowState is one documented limit of an account. A window the provider
// reports in headers (JustCall, Aircall) is counted as the provider counts
// it, a fixed window with a reset time, so that concurrent callers stop
// exactly when it is spent instead of discovering it through 429s; the
// headers correct the count and the reset. A window without headers
// (Dialpad's 20/s) is a smooth token bucket.
type windowState struct {
	limit     int // 0: unknown, not counted
	period    time.Duration
	limiter   *rate.Limiter
	tracked   bool
	remaining int
	resetAt   time.Time
	confirmed bool          // resetAt comes from (or is aligned to) the provider's headers
	lastReset time.Time     // the latest reset the provider reported
	observed  time.Duration // the provider's window length, once seen
}

// roll starts a new window when the current one has ended.
func (w *windowState) roll(now time.Time) {
	if w.resetAt.IsZero() {
		w.resetAt, w.remaining, w.confirmed = now.Add(w.period), w.limit, false
		return
	}
	if now.Before(w.resetAt) {
		return
	}
	period := w.period
	if w.observed > 0 {
		period = w.observed
	}
	if period > 0 {
		n := now.Sub(w.resetAt)/period + 1
		w.resetAt = w.resetAt.Add(n * period)
	} else {
		w.resetAt = now
	}
	w.remaining = w.limit
}

// takeWindows takes one request from every counted window, or returns how
// long to wait for the first to reset when one is spent (taking nothing).
func (a *Account) takeWindows(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var wait time.Duration
	for _, w := range a.windows {
		if !w.tracked || w.limit <= 0 || w.period <= 0 {
			continue
		}
		w.roll(now)
		if w.remaining <= 0 {
			wait = max(wait, w.resetAt.Sub(now))
		}
	}
	if wait > 0 {
		return wait
	}
	for _, w := range a.windows {
		if w.tracked && w.limit > 0 && w.period > 0 {
			w.remaining--
		}
	}
	return 0
}

// untakeWindows gives back the request takeWindows took when the request
// then did not go (a smooth limiter refused it, or the caller gave up):
// a counted window must not drain with nothing sent.
func (a *Account) untakeWindows() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.windows {
		if w.tracked && w.limit > 0 && w.period > 0 && w.remaining < w.limit {
			w.remaining++
		}
	}
}

func (a *Account) limiters() []*rate.Limiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.override != nil {
		return a.overrideSlice
	}
	ls := make([]*rate.Limiter, 0, len(a.windows))
	for _, w := range a.windows {
		if w.limiter != nil {
			ls = append(ls, w.limiter)
		}
	}
	return ls
}

// report applies one window's rate-limit headers. The provider is
// authoritative: its resets move forward window by window, so a reset later
// than any seen before starts a new window (and tells the window's real
// length), the same reset again refines the current one, and an earlier one
// is a late answer from a past window and is ignored. Within one window the
// lower of our count and the provider's is kept: the provider also counts
// other processes using the account, ours also counts requests still in
// flight. A zero limit is ignored: it would block every caller forever.
func (a *Account) report(ctx context.Context, i int, limit int, hasLimit bool, remaining int, hasRem bool, reset time.Time, hasReset bool) {
	if a.shared != nil {
		if !a.sharedUp() || ctx.Err() != nil {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, sharedTimeout)
		defer cancel()
		r := state.Report{Limit: limit, HasLimit: hasLimit, Remaining: remaining, HasRemaining: hasRem, Reset: reset, HasReset: hasReset}
		err := a.shared.Report(ctx, a.key, a.specNow(), i, r, time.Now())
		if err == nil || ctx.Err() != nil {
			return
		}
		// The local share stands in while the shared state is down; the
		// provider's account-wide numbers would overrun it, so they are
		// not applied to it.
		a.sharedFailed(&storeError{err})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if i < 0 || i >= len(a.windows) {
		return
	}
	w := a.windows[i]
	// A window not counted until now (WithRateLimit set its documented
	// limit aside until the headers came) takes the provider's count as
	// it is: our own count of it is not a count.
	if w.tracked && w.limit <= 0 && hasRem {
		defer func() { w.remaining = remaining }()
	}
	if hasLimit && limit > 0 && limit != w.limit {
		w.limit = limit
		if w.limiter != nil {
			w.limiter.SetLimit(perSecond(limit, w.period))
			w.limiter.SetBurst(limit)
		}
	}
	if !w.tracked {
		return
	}
	lower := func() {
		if hasRem && remaining < w.remaining {
			w.remaining = remaining
		}
	}
	if !hasReset {
		lower()
		return
	}
	// A reset further away than two windows is not believed: one bad
	// header must not close the account for years.
	if limitAt := time.Now().Add(2 * max(w.period, w.observed)); reset.After(limitAt) {
		reset = limitAt
	}
	// A reset sent as "seconds from now" jitters by the rounding; one sent
	// as a Unix time (JustCall, Aircall) repeats exactly within a window.
	tol := min(500*time.Millisecond, w.period/4)
	switch {
	case w.lastReset.IsZero() || reset.After(w.lastReset.Add(tol)):
		if !w.lastReset.IsZero() {
			w.observed = reset.Sub(w.lastReset)
		}
		sameLocal := !w.confirmed || absDuration(w.resetAt.Sub(reset)) <= tol
		w.lastReset, w.resetAt, w.confirmed = reset, reset, true
		if sameLocal {
			lower() // our count already holds requests in flight in this window
		} else if hasRem {
			w.remaining = remaining
		}
	case reset.Before(w.lastReset.Add(-tol)):
		// a late answer from a past window
	default:
		lower()
	}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
