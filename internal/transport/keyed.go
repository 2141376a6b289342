package transport

import (
	"context"
	"sync"
	"time"
)

// Keyed returns the account's limiter family called name (for example
// Dialpad's "5 call initiations per minute per user"): per key, a bucket of
// burst tokens refilled one per every. It is created on first use.
func (a *Account) Keyed(name string, every time.Duration, burst int) *KeyedLimiter {
	a.keyedMu.Lock()
	defer a.keyedMu.Unlock()
	k, ok := a.keyed[name]
	if !ok {
		k = &KeyedLimiter{a: a, name: name, every: every, burst: burst, local: newGCRA(every, burst)}
		if a.shared != nil {
			// While the shared state is down, this process's share.
			b := max(1, int(float64(burst)*a.share))
			k.local = newGCRA(time.Duration(float64(every)/a.share), b)
		}
		a.keyed[name] = k
	}
	return k
}

// KeyedLimiter is a family of per-key buckets (GCRA). In memory a bucket is
// forgotten only once it is full again, which is exactly a fresh bucket:
// however many keys are live, each gets exactly its limit. With shared
// state the buckets live there, for every replica.
type KeyedLimiter struct {
	a     *Account
	name  string
	every time.Duration
	burst int
	local *gcra
}

// Take takes a token for key, sleeping for it when the wait fits within
// maxWait and ctx's deadline; otherwise it takes nothing and returns the
// wait that would be needed, with ok=false. release gives the token back:
// call it when the request the token was for provably did nothing (refused
// before or by the provider), so a failed attempt does not use up a scarce
// slot. release is a no-op when ok is false.
func (k *KeyedLimiter) Take(ctx context.Context, key string, maxWait time.Duration) (release func(), wait time.Duration, ok bool, err error) {
	none := func() {}
	for {
		d, shared, err := k.try(ctx, key)
		if err != nil {
			return none, 0, false, err
		}
		if d <= 0 {
			return k.releaser(key, shared), wait, true, nil
		}
		// After a sleep, someone else may have taken the token: wait
		// again, within what is left of maxWait.
		if wait+d > maxWait || exceedsDeadline(ctx, d) {
			return none, d, false, nil
		}
		if err := sleep(ctx, d); err != nil {
			return none, d, false, err
		}
		wait += d
	}
}

// try takes a token from the shared bucket, or from the local one when
// there is no shared state or it cannot be reached.
func (k *KeyedLimiter) try(ctx context.Context, key string) (time.Duration, bool, error) {
	if k.a.sharedUp() {
		sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
		d, err := k.a.shared.Take(sctx, k.sharedName(), key, k.every, k.burst, time.Now())
		cancel()
		if err == nil {
			return d, true, nil
		}
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		k.a.sharedFailed(&storeError{err})
	}
	return k.local.take(key, time.Now()), false, nil
}

func (k *KeyedLimiter) releaser(key string, shared bool) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			if shared {
				ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
				defer cancel()
				if err := k.a.shared.Return(ctx, k.sharedName(), key, k.every, k.burst, time.Now()); err != nil {
					k.a.sharedFailed(&storeError{err})
				}
				return
			}
			k.local.give(key, time.Now())
		})
	}
}

// sharedName scopes the family to its account in the shared state: two
// accounts (tenants, sandbox and production) never share a bucket.
func (k *KeyedLimiter) sharedName() string { return k.a.key + "/" + k.name }

// gcra is an in-memory family of GCRA buckets: per key, the theoretical
// arrival time of the next request. A key whose tat has passed is a full
// bucket and is dropped, so memory follows the live keys only.
type gcra struct {
	mu        sync.Mutex
	every     time.Duration
	tolerance time.Duration // (burst-1) * every
	tat       map[string]time.Time
	sweepAt   int // sweep expired keys when the map reaches this size
}

func newGCRA(every time.Duration, burst int) *gcra {
	return &gcra{every: every, tolerance: time.Duration(burst-1) * every, tat: map[string]time.Time{}, sweepAt: 1024}
}

// take grants a token (0) or returns the wait until one is there.
func (g *gcra) take(key string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	tat, ok := g.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	if d := tat.Sub(now) - g.tolerance; d > 0 {
		return d
	}
	if !ok && len(g.tat) >= g.sweepAt {
		g.sweep(now)
	}
	g.tat[key] = tat.Add(g.every)
	return 0
}

// give returns one token of key.
func (g *gcra) give(key string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	tat, ok := g.tat[key]
	if !ok {
		return
	}
	if tat = tat.Add(-g.every); tat.After(now) {
		g.tat[key] = tat
	} else {
		delete(g.tat, key)
	}
}

// sweep drops full buckets; the next sweep waits until the map has doubled
// from what is left, so sweeping costs O(1) per insertion on average.
func (g *gcra) sweep(now time.Time) {
	for k, tat := range g.tat {
		if !tat.After(now) {
			delete(g.tat, k)
		}
	}
	g.sweepAt = max(1024, 2*len(g.tat))
}

// keys returns how many buckets are held (tests).
func (g *gcra) keys() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.tat)
}
