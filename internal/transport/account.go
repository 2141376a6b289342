package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/telephony/state"
	"golang.org/x/time/rate"
)

// Window is a documented rate limit: Limit requests per Period.
type Window struct {
	Limit  int
	Period time.Duration
}

// HeaderWindow names the response headers that describe one rate-limit
// window. Limit and Reset may be empty.
type HeaderWindow struct {
	Limit, Remaining, Reset string
	// Window is the index in Config.Windows this header set corrects, or
	// -1 when it corrects none.
	Window int
}

// Account is the rate-limit state shared by every client of one provider
// account: its windows (documented limits, counted against the provider's
// own rate-limit headers where it sends them), a not-before gate for
// server-requested waits, a retry budget and keyed limiters for
// per-endpoint limits. It is safe for concurrent use.
type Account struct {
	mu       sync.Mutex
	windows  []*windowState
	override *rate.Limiter // WithRateLimit: replaces the smooth limiters
	// overrideSlice is []*rate.Limiter{override}, kept to spare an
	// allocation per request.
	overrideSlice []*rate.Limiter

	notBefore atomic.Int64 // unix nanoseconds; no request starts before it
	budget    retryBudget

	keyedMu sync.Mutex
	keyed   map[string]*KeyedLimiter

	// shared, when set, holds the windows and the gate for every replica;
	// the local windows above are then scaled to this process's share
	// and used only while shared cannot be reached.
	shared   state.Limits
	store    *state.Store   // kept alive: the registry is keyed by its address
	key      string         // the account's name in shared: a hash, never a secret
	spec     []state.Window // the windows as shared counts them
	share    float64
	degraded atomic.Int64 // operations that fell back to local state
	downTill atomic.Int64 // unix nanoseconds: shared state is not tried before
	log      atomic.Pointer[slog.Logger]
}

var accounts sync.Map // account key -> *Account

// accountFor returns the Account of (provider, base URL, credential) in
// store st. The credential is hashed: neither the registry nor a shared
// store ever holds a secret. A window listed in tracked is counted as a
// fixed window corrected by headers; the others are smooth token buckets.
// With a store that shares limits, the local windows are this process's
// share, used only while the store cannot be reached.
func accountFor(provider, baseURL, credential string, windows []Window, tracked map[int]bool, st *state.Store) *Account {
	sum := sha256.Sum256([]byte(provider + "\x00" + baseURL + "\x00" + credential))
	key := hex.EncodeToString(sum[:])
	reg := fmt.Sprintf("%p/%s", st, key) // one Account per store and account
	if a, ok := accounts.Load(reg); ok {
		return a.(*Account)
	}
	a := &Account{keyed: map[string]*KeyedLimiter{}, key: provider + ":" + key[:32], shared: st.Limits(), store: st, share: st.LocalShare()}
	a.budget.tokens = budgetMax
	for i, w := range windows {
		limit := w.Limit
		if a.shared != nil {
			limit = max(1, int(float64(w.Limit)*a.share))
		}
		ws := &windowState{limit: limit, period: w.Period, tracked: tracked[i]}
		if !ws.tracked {
			ws.limiter = rate.NewLimiter(perSecond(limit, w.Period), limit)
		}
		a.windows = append(a.windows, ws)
		a.spec = append(a.spec, state.Window{Limit: w.Limit, Period: w.Period, Counted: tracked[i]})
	}
	actual, _ := accounts.LoadOrStore(reg, a)
	return actual.(*Account)
}

// SetRate replaces the account's smooth limits with one limiter. Windows
// the provider reports in headers are still counted, from what the headers
// say only.
//
// Every client built for the account calls it, so it keeps the limiter's
// state when the rate does not change (a client built per request must not
// get a fresh burst), and never forgets what the provider's headers said.
func (a *Account) SetRate(limit rate.Limit, burst int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.spec = a.overrideSpec(limit, burst)
	if a.shared != nil && limit != rate.Inf {
		// The local limiter is this process's share, for when the shared
		// state is down.
		limit, burst = limit*rate.Limit(a.share), max(1, int(float64(burst)*a.share))
	}
	if a.override != nil {
		if a.override.Limit() != limit || a.override.Burst() != burst {
			a.override.SetLimit(limit)
			a.override.SetBurst(burst)
		}
		return
	}
	a.override = rate.NewLimiter(limit, burst)
	a.overrideSlice = []*rate.Limiter{a.override}
	for _, w := range a.windows {
		w.limiter = nil
		if w.tracked && w.lastReset.IsZero() {
			// The documented limit no longer applies; wait for the headers.
			w.limit, w.remaining, w.resetAt = 0, 0, time.Time{}
		}
	}
}

// overrideSpec is the shared windows under WithRateLimit: the documented
// limits give way (limit 0: not counted, indexes kept for Report) to one
// bucket of burst at limit per second (none for rate.Inf); a counted
// window counts again once the provider's headers report its limit, as
// in memory.
func (a *Account) overrideSpec(limit rate.Limit, burst int) []state.Window {
	spec := make([]state.Window, 0, len(a.windows)+1)
	for _, w := range a.spec[:len(a.windows)] {
		w.Limit = 0
		spec = append(spec, w)
	}
	if limit != rate.Inf && limit > 0 {
		spec = append(spec, state.Window{Limit: burst, Period: time.Duration(float64(burst) / float64(limit) * float64(time.Second))})
	}
	return spec
}

func perSecond(n int, period time.Duration) rate.Limit {
	if n <= 0 || period <= 0 {
		return rate.Inf
	}
	return rate.Limit(float64(n) / period.Seconds())
}

// Block makes no request of this account start before now+d, in every
// replica when the state is shared.
func (a *Account) Block(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	if a.sharedUp() && ctx.Err() == nil {
		// Bounded by the caller's context too: a stalled store must not
		// hold the answer past the caller's deadline.
		ctx, cancel := context.WithTimeout(ctx, sharedTimeout)
		if err := a.shared.Block(ctx, a.key, time.Now().Add(d)); err != nil && ctx.Err() == nil {
			a.sharedFailed(&storeError{err})
		}
		cancel()
	}
	until := time.Now().Add(d).UnixNano()
	for {
		cur := a.notBefore.Load()
		if cur >= until || a.notBefore.CompareAndSwap(cur, until) {
			return
		}
	}
}

// Gate returns how long from now the not-before gate stays closed.
func (a *Account) Gate() time.Duration {
	return time.Until(time.Unix(0, a.notBefore.Load()))
}

// errWaitTooLong is what wait reports when a wait cannot be taken: it is
// longer than maxWait or than the time left before ctx's deadline.
type errWaitTooLong struct {
	wait     time.Duration
	deadline bool // the context deadline, not maxWait, was the limit
}

// wait blocks until the gate is open, every counted window has room and
// every smooth limiter grants a token. It fails at once, without sleeping,
// when a wait exceeds maxWait or what is left of ctx's deadline.
func (a *Account) wait(ctx context.Context, maxWait time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.sharedUp() {
		err := a.waitShared(ctx, maxWait)
		if !a.sharedFailed(err) {
			return err
		}
		// The shared state cannot be reached: this process's share of
		// the limits, counted locally, stands in for it.
	}
	for {
		d := a.Gate()
		if d <= 0 {
			d = a.takeWindows(time.Now())
		}
		if d <= 0 {
			break
		}
		if d > maxWait {
			return &errWaitTooLong{wait: d}
		}
		if exceedsDeadline(ctx, d) {
			return &errWaitTooLong{wait: d, deadline: true}
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	limiters := a.limiters()
	now := time.Now()
	var delay time.Duration
	var buf [4]*rate.Reservation
	rs := buf[:0]
	for _, l := range limiters {
		if l.Limit() == rate.Inf {
			continue // nothing to wait for, nothing to allocate
		}
		r := l.ReserveN(now, 1)
		if !r.OK() {
			cancelAll(rs, now)
			a.untakeWindows()
			return &errWaitTooLong{wait: time.Hour}
		}
		rs = append(rs, r)
		delay = max(delay, r.DelayFrom(now))
	}
	if delay <= 0 {
		return nil
	}
	if delay > maxWait {
		cancelAll(rs, now)
		a.untakeWindows()
		return &errWaitTooLong{wait: delay}
	}
	if exceedsDeadline(ctx, delay) {
		cancelAll(rs, now)
		a.untakeWindows()
		return &errWaitTooLong{wait: delay, deadline: true}
	}
	if err := sleep(ctx, delay); err != nil {
		cancelAll(rs, time.Now())
		a.untakeWindows()
		return err
	}
	return nil
}

// sharedTimeout bounds one round trip to the shared state, so that a
// stalled store degrades to the local share instead of holding requests.
const sharedTimeout = 2 * time.Second

// waitShared is wait against the shared state: one atomic admission per
// try, sleeping between tries. Errors of the store come back as
// *storeError.
func (a *Account) waitShared(ctx context.Context, maxWait time.Duration) error {
	// No reservation is held between tries, so several waiters may wake
	// for one slot: the total wait, not each sleep, is bounded by maxWait.
	var waited time.Duration
	for {
		sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
		d, err := a.shared.Admit(sctx, a.key, a.specNow(), time.Now())
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return &storeError{err}
		}
		if d <= 0 {
			return nil
		}
		if waited+d > maxWait {
			return &errWaitTooLong{wait: d}
		}
		if exceedsDeadline(ctx, d) {
			return &errWaitTooLong{wait: d, deadline: true}
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
		waited += d
	}
}

func (a *Account) specNow() []state.Window {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.spec
}

// storeError is a failure of the shared state.
type storeError struct{ err error }

func (e *storeError) Error() string { return "shared state: " + e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// sharedFailed reports whether err is a failure of the shared state, and
// if so counts it and logs it: the caller then falls back to local state.
func (a *Account) sharedFailed(err error) bool {
	if err == nil {
		return false
	}
	var se *storeError
	if !errors.As(err, &se) {
		return false
	}
	// Do not make every request wait for a store that just failed: the
	// local share stands in for a moment before the store is tried again.
	a.downTill.Store(time.Now().Add(sharedRetryAfter).UnixNano())
	n := a.degraded.Add(1)
	if l := a.log.Load(); l != nil && (n == 1 || n%100 == 0) {
		l.Warn("switchboard: shared rate-limit state unavailable; using this process's share of the limits",
			"account", a.key, "fallbacks", n, "error", err.Error())
	}
	return true
}

// sharedRetryAfter is how long the local share stands in after the shared
// state failed, before the shared state is tried again.
const sharedRetryAfter = time.Second

// sharedUp reports whether the shared state is to be used now.
func (a *Account) sharedUp() bool {
	return a.shared != nil && time.Now().UnixNano() >= a.downTill.Load()
}

// Degraded returns how many operations fell back to local state because
// the shared state could not be reached.
func (a *Account) Degraded() int64 { return a.degraded.Load() }

// setLogger gives the account a logger for fallback warnings (the first
// client's that has one).
func (a *Account) setLogger(l *slog.Logger) {
	if l != nil {
		a.log.CompareAndSwap(nil, l)
	}
}

func cancelAll(rs []*rate.Reservation, now time.Time) {
	for _, r := range rs {
		r.CancelAt(now)
	}
}

func exceedsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < d
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry budget (AWS standard mode): retries spend tokens, successes earn
// them back, and an empty budget stops retries so a failing provider is not
// hammered by every caller at once.
const (
	budgetMax         = 500
	budgetRetryCost   = 5
	budgetTimeoutCost = 10
)

type retryBudget struct {
	mu     sync.Mutex
	tokens int
}

func (b *retryBudget) take(cost int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < cost {
		return false
	}
	b.tokens -= cost
	return true
}

func (b *retryBudget) refund() {
	b.mu.Lock()
	if b.tokens < budgetMax {
		b.tokens++
	}
	b.mu.Unlock()
}

func (e *errWaitTooLong) Error() string {
	if e.deadline {
		return "rate limit wait of " + e.wait.Round(time.Millisecond).String() + " would exceed the context deadline"
	}
	return "rate limit wait of " + e.wait.Round(time.Millisecond).String() + " exceeds the maximum retry wait"
}
