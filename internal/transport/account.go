package transport

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

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
}

var accounts sync.Map // account key -> *Account

// accountFor returns the shared Account of (provider, base URL, credential).
// The credential is hashed: the registry never holds a secret. A window
// listed in tracked is counted as a fixed window corrected by headers; the
// others are smooth token buckets.
func accountFor(provider, baseURL, credential string, windows []Window, tracked map[int]bool) *Account {
	sum := sha256.Sum256([]byte(provider + "\x00" + baseURL + "\x00" + credential))
	key := hex.EncodeToString(sum[:])
	if a, ok := accounts.Load(key); ok {
		return a.(*Account)
	}
	a := &Account{keyed: map[string]*KeyedLimiter{}}
	a.budget.tokens = budgetMax
	for i, w := range windows {
		ws := &windowState{limit: w.Limit, period: w.Period, tracked: tracked[i]}
		if !ws.tracked {
			ws.limiter = rate.NewLimiter(perSecond(w.Limit, w.Period), w.Limit)
		}
		a.windows = append(a.windows, ws)
	}
	actual, _ := accounts.LoadOrStore(key, a)
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

func perSecond(n int, period time.Duration) rate.Limit {
	if n <= 0 || period <= 0 {
		return rate.Inf
	}
	return rate.Limit(float64(n) / period.Seconds())
}

// Block makes no request of this account start before now+d.
func (a *Account) Block(d time.Duration) {
	if d <= 0 {
		return
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
		return &errWaitTooLong{wait: delay}
	}
	if exceedsDeadline(ctx, delay) {
		cancelAll(rs, now)
		return &errWaitTooLong{wait: delay, deadline: true}
	}
	if err := sleep(ctx, delay); err != nil {
		cancelAll(rs, time.Now())
		return err
	}
	return nil
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

// Keyed returns the account's limiter family called name (for example
// Dialpad's "5 call initiations per minute per user"), creating it with the
// given rate and burst on first use. At most maxKeys keys are remembered;
// the least recently used is dropped first.
func (a *Account) Keyed(name string, limit rate.Limit, burst, maxKeys int) *KeyedLimiter {
	a.keyedMu.Lock()
	defer a.keyedMu.Unlock()
	k, ok := a.keyed[name]
	if !ok {
		k = &KeyedLimiter{limit: limit, burst: burst, max: maxKeys, order: list.New(), items: map[string]*list.Element{}}
		a.keyed[name] = k
	}
	return k
}

// KeyedLimiter is a bounded LRU of rate limiters, one per key.
type KeyedLimiter struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	max   int
	order *list.List // front = most recent; values are *keyedEntry
	items map[string]*list.Element
}

type keyedEntry struct {
	key string
	l   *rate.Limiter
}

func (k *KeyedLimiter) limiter(key string) *rate.Limiter {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.items[key]; ok {
		k.order.MoveToFront(e)
		return e.Value.(*keyedEntry).l
	}
	l := rate.NewLimiter(k.limit, k.burst)
	k.items[key] = k.order.PushFront(&keyedEntry{key: key, l: l})
	for k.max > 0 && k.order.Len() > k.max {
		old := k.order.Back()
		k.order.Remove(old)
		delete(k.items, old.Value.(*keyedEntry).key)
	}
	return l
}

// Take takes a token for key, sleeping for it when the wait fits within
// maxWait and ctx's deadline; otherwise it takes nothing and returns the
// wait that would be needed, with ok=false. release gives the token back:
// call it when the request the token was for provably did nothing (refused
// before or by the provider), so a failed attempt does not use up a scarce
// slot. release is a no-op when ok is false.
func (k *KeyedLimiter) Take(ctx context.Context, key string, maxWait time.Duration) (release func(), wait time.Duration, ok bool, err error) {
	none := func() {}
	l := k.limiter(key)
	now := time.Now()
	r := l.ReserveN(now, 1)
	if !r.OK() {
		return none, time.Duration(1<<63 - 1), false, nil
	}
	d := r.DelayFrom(now)
	// Cancel as of the moment the token was due: x/time/rate restores
	// nothing for a reservation cancelled after its time has passed.
	act := now.Add(d)
	release = func() { r.CancelAt(act) }
	if d == 0 {
		return release, 0, true, nil
	}
	if d > maxWait || exceedsDeadline(ctx, d) {
		r.CancelAt(now)
		return none, d, false, nil
	}
	if err := sleep(ctx, d); err != nil {
		r.CancelAt(time.Now())
		return none, d, false, err
	}
	return release, d, true, nil
}

func (e *errWaitTooLong) Error() string {
	if e.deadline {
		return "rate limit wait of " + e.wait.Round(time.Millisecond).String() + " would exceed the context deadline"
	}
	return "rate limit wait of " + e.wait.Round(time.Millisecond).String() + " exceeds the maximum retry wait"
}
