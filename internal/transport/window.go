package transport

import (
	"time"

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
	confirmed bool // resetAt comes from (or is aligned to) the provider's headers
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
	if w.period > 0 {
		n := now.Sub(w.resetAt)/w.period + 1
		w.resetAt = w.resetAt.Add(n * w.period)
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

func (a *Account) limiters() []*rate.Limiter {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.override != nil {
		return []*rate.Limiter{a.override}
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
// authoritative: its reset time replaces ours, and its remaining count
// lowers ours (it also counts other processes using the account; ours also
// counts requests still in flight, so the lower of the two is kept within
// a window). A reset well before ours is a late answer from an earlier
// window and is ignored. A zero limit is ignored too: it would block every
// caller forever.
func (a *Account) report(i int, limit int, hasLimit bool, remaining int, hasRem bool, reset time.Time, hasReset bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i < 0 || i >= len(a.windows) {
		return
	}
	w := a.windows[i]
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
	half := w.period / 2
	switch {
	case !hasReset:
		if hasRem && remaining < w.remaining {
			w.remaining = remaining
		}
	case !w.confirmed || reset.After(w.resetAt.Add(half)):
		// Our window was a guess, or the provider's has moved on: take its
		// reset. Requests we already counted may be in flight, so keep the
		// lower count.
		w.resetAt, w.confirmed = reset, true
		if hasRem && remaining < w.remaining {
			w.remaining = remaining
		}
	case reset.Before(w.resetAt.Add(-half)):
		// a late answer from an earlier window
	default:
		w.resetAt = reset
		if hasRem && remaining < w.remaining {
			w.remaining = remaining
		}
	}
}
