package redisstate

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/internal/redistest"
	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// TestMain stops the redis-server the package's tests share (the only
// TestMain of the package).
func TestMain(m *testing.M) {
	code := m.Run()
	redistest.Shutdown()
	os.Exit(code)
}

// limStores returns n stores sharing one Redis database and one prefix,
// each on a client (a connection pool) of its own, as n replicas of a
// backend would be, and the first client, to look at keys.
func limStores(t testing.TB, n int) ([]*state.Store, *redis.Client, string) {
	t.Helper()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	o := c.Options()
	stores := make([]*state.Store, n)
	for i := range stores {
		cl := c
		if i > 0 {
			cl = redis.NewClient(&redis.Options{Addr: o.Addr, DB: o.DB, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig})
			t.Cleanup(func() { _ = cl.Close() })
		}
		st, err := New(cl, Options{Prefix: prefix})
		require.NoError(t, err)
		stores[i] = st
	}
	return stores, c, prefix
}

// limitsOf returns one store's Limits, its client and prefix.
func limOf(t testing.TB) (state.Limits, *redis.Client, string) {
	t.Helper()
	stores, c, prefix := limStores(t, 1)
	l := stores[0].Limits()
	require.NotNil(t, l, "the Redis store shares its limits")
	return l, c, prefix
}

// limClock is a start time on whole milliseconds, near the real time (the
// gate's TTL runs on the real clock).
func limClock() time.Time { return time.Now().Truncate(time.Millisecond) }

// admitN tries n admissions at now and returns how many were granted and
// the waits of the others.
func limAdmitN(t *testing.T, l state.Limits, acct string, ws []state.Window, now time.Time, n int) (int, []time.Duration) {
	t.Helper()
	granted := 0
	var waits []time.Duration
	for range n {
		wait, err := l.Admit(context.Background(), acct, ws, now)
		require.NoError(t, err)
		if wait == 0 {
			granted++
		} else {
			waits = append(waits, wait)
		}
	}
	return granted, waits
}

func TestAdmitCountedSharedByReplicas(t *testing.T) {
	stores, _, _ := limStores(t, 3)
	ws := []state.Window{{Limit: 30, Period: time.Minute, Counted: true}}
	t0 := limClock()

	hammer := func(now time.Time) (granted int64, waits map[time.Duration]int) {
		var mu sync.Mutex
		waits = map[time.Duration]int{}
		var wg sync.WaitGroup
		for _, st := range stores {
			for range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 10 {
						wait, err := st.Limits().Admit(context.Background(), "acct-a", ws, now)
						if !assert.NoError(t, err) {
							return
						}
						if wait == 0 {
							atomic.AddInt64(&granted, 1)
						} else {
							mu.Lock()
							waits[wait]++
							mu.Unlock()
						}
					}
				}()
			}
		}
		wg.Wait()
		return granted, waits
	}

	granted, waits := hammer(t0)
	assert.EqualValues(t, 30, granted, "3 replicas x 10 goroutines x 10 tries share one window of 30")
	assert.Equal(t, map[time.Duration]int{time.Minute: 270}, waits, "the others wait for the window's reset")

	granted, waits = hammer(t0.Add(time.Minute))
	assert.EqualValues(t, 30, granted, "the next window gives 30 more")
	assert.Equal(t, map[time.Duration]int{time.Minute: 270}, waits)

	// Another account is another budget.
	wait, err := stores[1].Limits().Admit(context.Background(), "acct-b", ws, t0)
	require.NoError(t, err)
	assert.Zero(t, wait)
}

func TestAdmitSmoothWindow(t *testing.T) {
	l, _, _ := limOf(t)
	ws := []state.Window{{Limit: 20, Period: time.Second}}
	t0 := limClock()

	granted, waits := limAdmitN(t, l, "acct", ws, t0, 25)
	assert.Equal(t, 20, granted, "the burst is the limit")
	require.Len(t, waits, 5)
	for _, w := range waits {
		assert.Equal(t, 50*time.Millisecond, w, "one every 1s/20")
	}
	wait, err := l.Admit(context.Background(), "acct", ws, t0.Add(10*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, 40*time.Millisecond, wait)

	// Paced: over the next second, on a 10ms clock, exactly one every 50ms.
	total := 0
	for step := 1; step <= 100; step++ {
		now := t0.Add(time.Duration(step) * 10 * time.Millisecond)
		g, _ := limAdmitN(t, l, "acct", ws, now, 3)
		if step%5 == 0 {
			assert.Equal(t, 1, g, "at %v", now.Sub(t0))
		} else {
			assert.Equal(t, 0, g, "at %v", now.Sub(t0))
		}
		total += g
	}
	assert.Equal(t, 20, total, "20 per second after the burst")

	// Idle for a second: the whole burst again, not more.
	granted, _ = limAdmitN(t, l, "acct", ws, t0.Add(3*time.Second), 30)
	assert.Equal(t, 20, granted)
}

func TestAdmitAllOrNothing(t *testing.T) {
	l, _, _ := limOf(t)
	// A counted 30 per minute and a smooth 2 per second (burst 2).
	ws := []state.Window{{Limit: 30, Period: time.Minute, Counted: true}, {Limit: 2, Period: time.Second}}
	t0 := limClock()

	granted, waits := limAdmitN(t, l, "acct", ws, t0, 10)
	require.Equal(t, 2, granted, "the smooth window's burst")
	for _, w := range waits {
		assert.Equal(t, 500*time.Millisecond, w)
	}
	// Refused admissions took nothing from the counted window: over the
	// minute, exactly 30 in all.
	for now := t0.Add(500 * time.Millisecond); now.Before(t0.Add(time.Minute)); now = now.Add(500 * time.Millisecond) {
		g, _ := limAdmitN(t, l, "acct", ws, now, 2)
		granted += g
	}
	assert.Equal(t, 30, granted, "the counted window is the bound over a minute")
	wait, err := l.Admit(context.Background(), "acct", ws, t0.Add(59*time.Second))
	require.NoError(t, err)
	assert.Equal(t, time.Second, wait, "the counted window is spent until its reset")
	// Nor did they advance the smooth window: at the reset, 2 at once.
	granted, _ = limAdmitN(t, l, "acct", ws, t0.Add(time.Minute+10*time.Second), 5)
	assert.Equal(t, 2, granted)
}

func TestAdmitGate(t *testing.T) {
	l, c, prefix := limOf(t)
	ctx := context.Background()
	ws := []state.Window{{Limit: 1, Period: time.Minute, Counted: true}}
	t0 := limClock()

	require.NoError(t, l.Block(ctx, "acct", t0.Add(5*time.Second)))
	wait, err := l.Admit(ctx, "acct", ws, t0)
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, wait)

	// An earlier time does not shorten the gate, nor does one in the past.
	require.NoError(t, l.Block(ctx, "acct", t0.Add(time.Second)))
	require.NoError(t, l.Block(ctx, "acct", t0.Add(-time.Hour)))
	wait, err = l.Admit(ctx, "acct", ws, t0.Add(2*time.Second))
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, wait)

	// The gate expires with its time.
	ttl, err := c.PTTL(ctx, prefix+"acct:{acct}:gate").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Duration(0))
	assert.LessOrEqual(t, ttl, 5*time.Second)

	// At the gate's time, the window's one request: the gated tries took
	// nothing.
	wait, err = l.Admit(ctx, "acct", ws, t0.Add(5*time.Second))
	require.NoError(t, err)
	assert.Zero(t, wait)
	wait, err = l.Admit(ctx, "acct", ws, t0.Add(5*time.Second))
	require.NoError(t, err)
	assert.Equal(t, time.Minute, wait, "spent window: wait for its reset")

	// A later time extends the gate; the gate is checked first.
	require.NoError(t, l.Block(ctx, "acct", t0.Add(2*time.Minute)))
	wait, err = l.Admit(ctx, "acct", ws, t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, time.Minute, wait)

	// The gate is the account's, not another's.
	wait, err = l.Admit(ctx, "other", ws, t0)
	require.NoError(t, err)
	assert.Zero(t, wait)
}

func TestReportCorrections(t *testing.T) {
	ctx := context.Background()
	minute := []state.Window{{Limit: 30, Period: time.Minute, Counted: true}}
	report := func(t *testing.T, l state.Limits, ws []state.Window, r state.Report, now time.Time) {
		t.Helper()
		require.NoError(t, l.Report(ctx, "acct", ws, 0, r, now))
	}

	t.Run("remaining and reset", func(t *testing.T) {
		l, _, _ := limOf(t)
		t0 := limClock()
		granted, _ := limAdmitN(t, l, "acct", minute, t0, 1)
		require.Equal(t, 1, granted)

		// The provider counts other users of the account: 3 left.
		report(t, l, minute, state.Report{Limit: 30, HasLimit: true, Remaining: 3, HasRemaining: true, Reset: t0.Add(time.Minute), HasReset: true}, t0.Add(100*time.Millisecond))
		granted, waits := limAdmitN(t, l, "acct", minute, t0.Add(200*time.Millisecond), 10)
		assert.Equal(t, 3, granted, "only what the provider says is left")
		require.NotEmpty(t, waits)
		assert.Equal(t, time.Minute-200*time.Millisecond, waits[0], "until the provider's reset")

		// The same window with more left: the lower count is kept.
		report(t, l, minute, state.Report{Remaining: 10, HasRemaining: true, Reset: t0.Add(time.Minute), HasReset: true}, t0.Add(300*time.Millisecond))
		// A late answer from the window before: ignored.
		report(t, l, minute, state.Report{Remaining: 25, HasRemaining: true, Reset: t0, HasReset: true}, t0.Add(400*time.Millisecond))
		granted, _ = limAdmitN(t, l, "acct", minute, t0.Add(500*time.Millisecond), 3)
		assert.Zero(t, granted)

		// A later reset: the provider started a new window.
		report(t, l, minute, state.Report{Remaining: 29, HasRemaining: true, Reset: t0.Add(2 * time.Minute), HasReset: true}, t0.Add(time.Second))
		granted, waits = limAdmitN(t, l, "acct", minute, t0.Add(time.Second), 40)
		assert.Equal(t, 29, granted)
		require.NotEmpty(t, waits)
		assert.Equal(t, 119*time.Second, waits[0])

		// A reported limit applies from the next window.
		report(t, l, minute, state.Report{Limit: 5, HasLimit: true}, t0.Add(2*time.Second))
		granted, _ = limAdmitN(t, l, "acct", minute, t0.Add(2*time.Minute), 10)
		assert.Equal(t, 5, granted)
	})

	t.Run("observed window length", func(t *testing.T) {
		l, _, _ := limOf(t)
		t0 := limClock()
		// Configured as 30s, the provider's windows are a minute long.
		ws := []state.Window{{Limit: 4, Period: 30 * time.Second, Counted: true}}
		granted, _ := limAdmitN(t, l, "acct", ws, t0, 1)
		require.Equal(t, 1, granted)
		report(t, l, ws, state.Report{Remaining: 3, HasRemaining: true, Reset: t0.Add(time.Minute), HasReset: true}, t0)
		report(t, l, ws, state.Report{Remaining: 3, HasRemaining: true, Reset: t0.Add(2 * time.Minute), HasReset: true}, t0.Add(61*time.Second))
		// The window after t0+2m is rolled by the observed minute.
		granted, waits := limAdmitN(t, l, "acct", ws, t0.Add(2*time.Minute+time.Second), 6)
		assert.Equal(t, 4, granted)
		require.NotEmpty(t, waits)
		assert.Equal(t, 59*time.Second, waits[0], "rolled by the observed length, not the configured one")
	})

	t.Run("far reset capped", func(t *testing.T) {
		l, _, _ := limOf(t)
		t0 := limClock()
		report(t, l, minute, state.Report{Remaining: 0, HasRemaining: true, Reset: t0.Add(365 * 24 * time.Hour), HasReset: true}, t0)
		wait, err := l.Admit(ctx, "acct", minute, t0)
		require.NoError(t, err)
		assert.Equal(t, 2*time.Minute, wait, "a year-long reset is believed for two windows")
	})

	t.Run("before any admission", func(t *testing.T) {
		l, _, _ := limOf(t)
		t0 := limClock()
		report(t, l, minute, state.Report{Remaining: 2, HasRemaining: true}, t0)
		granted, waits := limAdmitN(t, l, "acct", minute, t0, 5)
		assert.Equal(t, 2, granted)
		require.NotEmpty(t, waits)
		assert.Equal(t, time.Minute, waits[0])
	})

	t.Run("smooth window takes a limit only", func(t *testing.T) {
		l, _, _ := limOf(t)
		t0 := limClock()
		ws := []state.Window{{Limit: 20, Period: time.Second}}
		report(t, l, ws, state.Report{Limit: 5, HasLimit: true, Remaining: 100, HasRemaining: true, Reset: t0, HasReset: true}, t0)
		granted, waits := limAdmitN(t, l, "acct", ws, t0, 10)
		assert.Equal(t, 5, granted, "the reported limit is the burst")
		require.NotEmpty(t, waits)
		assert.Equal(t, 200*time.Millisecond, waits[0], "and the rate: 5 per second")
		// Out-of-range windows and zero limits are ignored.
		require.NoError(t, l.Report(ctx, "acct", ws, 3, state.Report{Limit: 1, HasLimit: true}, t0))
		report(t, l, ws, state.Report{Limit: 0, HasLimit: true}, t0)
		granted, _ = limAdmitN(t, l, "acct", ws, t0.Add(time.Second), 10)
		assert.Equal(t, 5, granted)
	})
}

func TestAdmitKeysExpire(t *testing.T) {
	l, c, prefix := limOf(t)
	ctx := context.Background()
	ws := []state.Window{{Limit: 30, Period: time.Minute, Counted: true}, {Limit: 20, Period: time.Second}}
	now := limClock()
	_, err := l.Admit(ctx, "acct", ws, now)
	require.NoError(t, err)
	require.NoError(t, l.Report(ctx, "acct", ws, 0, state.Report{Remaining: 5, HasRemaining: true, Reset: now.Add(time.Minute), HasReset: true}, now))
	require.NoError(t, l.Block(ctx, "acct", now.Add(time.Second)))

	keys, err := c.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.Len(t, keys, 3, "gate and two windows: %v", keys)
	for _, k := range keys {
		assert.True(t, strings.HasPrefix(k, prefix+"acct:{acct}:"), "one hash tag per account: %s", k)
		ttl, err := c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, time.Duration(0), "%s expires", k)
		assert.LessOrEqual(t, ttl, 3*time.Minute, "%s: at most the window and two more", k)
	}
}

// limKeyedRun takes from keys distinct buckets passes times each, pass
// after pass, with the store's own script, keys and arguments (those Take
// sends), pipelined 1,000 at a time from 8 connections at once, and
// checks that exactly burst tokens per key were granted.
func limKeyedRun(t *testing.T, keys, passes int) {
	stores, c, prefix := limStores(t, 1)
	l := stores[0].Limits().(*limits)
	ctx := context.Background()
	const every, burst, batch = 12 * time.Second, 5, 1000
	// One fixed instant for every take, an hour ahead of the wall clock:
	// buckets expire by the wall clock once full again, so a slow machine
	// taking longer than a refill must not see them go mid-test.
	now := limClock().Add(time.Hour)
	require.NoError(t, takeScript.Load(ctx, c).Err(), "pipelines send EVALSHA only")
	var next, granted, waited atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	total := int64(keys * passes)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var key []byte
			cmds := make([]*redis.Cmd, 0, batch)
			for {
				from := next.Add(batch) - batch
				if from >= total {
					return
				}
				pipe := c.Pipeline()
				cmds = cmds[:0]
				for j := from; j < min(from+batch, total); j++ {
					key = strconv.AppendInt(append(key[:0], "user-"...), j%int64(keys), 10)
					ks, args := l.takeCall("initiate", string(key), every, burst, now)
					cmds = append(cmds, takeScript.EvalSha(ctx, pipe, ks, args...))
				}
				if _, err := pipe.Exec(ctx); !assert.NoError(t, err) {
					return
				}
				for _, cmd := range cmds {
					switch us, _ := cmd.Int64(); time.Duration(us) * time.Microsecond {
					case 0:
						granted.Add(1)
					case every:
						waited.Add(1)
					default:
						assert.Fail(t, "wait", "%v", us)
					}
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("keyed: %d users x %d passes: %d granted (limit %d)", keys, passes, granted.Load(), keys*burst)
	t.Logf("keyed: %d takes in %v", total, time.Since(start).Round(time.Millisecond))
	assert.EqualValues(t, keys*burst, granted.Load(), "burst per key")
	assert.EqualValues(t, total-int64(keys*burst), waited.Load(), "the rest wait one interval")
	live, err := c.Keys(ctx, prefix+"key:initiate:*").Result()
	require.NoError(t, err)
	assert.Len(t, live, keys, "one key per live bucket")
}

func TestTakeKeyed(t *testing.T) { limKeyedRun(t, 10_000, 10) }

func TestTakeKeyedLong(t *testing.T) {
	testenv.Long(t)
	limKeyedRun(t, 100_000, 10)
}

func TestTakeConcurrentSameKey(t *testing.T) {
	stores, _, _ := limStores(t, 3)
	now := limClock()
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 48 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				wait, err := stores[i%3].Limits().Take(context.Background(), "initiate", "user-1", 12*time.Second, 5, now)
				if !assert.NoError(t, err) {
					return
				}
				if wait == 0 {
					granted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 5, granted.Load(), "240 tries from 3 replicas: the burst, once")
}

func TestTakePaced(t *testing.T) {
	l, _, _ := limOf(t)
	ctx := context.Background()
	t0 := limClock()
	take := func(name, key string, every time.Duration, burst int, at time.Duration) time.Duration {
		t.Helper()
		wait, err := l.Take(ctx, name, key, every, burst, t0.Add(at))
		require.NoError(t, err)
		return wait
	}
	// Dialpad: 5 call initiations per minute per user.
	for i := range 5 {
		assert.Zero(t, take("initiate", "u1", 12*time.Second, 5, 0), "burst %d", i)
	}
	assert.Equal(t, 12*time.Second, take("initiate", "u1", 12*time.Second, 5, 0))
	assert.Equal(t, 2*time.Second, take("initiate", "u1", 12*time.Second, 5, 10*time.Second))
	assert.Zero(t, take("initiate", "u1", 12*time.Second, 5, 12*time.Second))
	assert.Equal(t, 12*time.Second, take("initiate", "u1", 12*time.Second, 5, 12*time.Second))
	assert.Zero(t, take("initiate", "u2", 12*time.Second, 5, 0), "another user")
	assert.Zero(t, take("other", "u1", 12*time.Second, 5, 0), "another family")

	// 1 router update per 5 minutes.
	assert.Zero(t, take("update", "r1", 5*time.Minute, 1, 0))
	assert.Equal(t, 5*time.Minute, take("update", "r1", 5*time.Minute, 1, 0))
	assert.Equal(t, time.Minute, take("update", "r1", 5*time.Minute, 1, 4*time.Minute))
	assert.Zero(t, take("update", "r1", 5*time.Minute, 1, 5*time.Minute))

	_, err := l.Take(ctx, "update", "r1", time.Minute, 0, t0)
	assert.Error(t, err, "a burst of 0 is a mistake")
	assert.Zero(t, take("free", "x", 0, 0, 0), "no rate: no limit")
}

func TestTakeReturn(t *testing.T) {
	l, _, _ := limOf(t)
	ctx := context.Background()
	now := limClock()
	const every, burst = 12 * time.Second, 5
	for range burst {
		wait, err := l.Take(ctx, "initiate", "u", every, burst, now)
		require.NoError(t, err)
		require.Zero(t, wait)
	}
	require.NoError(t, l.Return(ctx, "initiate", "u", every, burst, now))
	wait, err := l.Take(ctx, "initiate", "u", every, burst, now)
	require.NoError(t, err)
	assert.Zero(t, wait, "the returned token")
	wait, err = l.Take(ctx, "initiate", "u", every, burst, now)
	require.NoError(t, err)
	assert.Equal(t, every, wait, "exactly one came back")

	// Returns to a full bucket add nothing past the burst.
	for range 3 {
		require.NoError(t, l.Return(ctx, "update", "r", time.Minute, 1, now))
	}
	wait, err = l.Take(ctx, "update", "r", time.Minute, 1, now)
	require.NoError(t, err)
	assert.Zero(t, wait)
	wait, err = l.Take(ctx, "update", "r", time.Minute, 1, now)
	require.NoError(t, err)
	assert.Equal(t, time.Minute, wait)
}

func TestTakeKeysBounded(t *testing.T) {
	l, c, prefix := limOf(t)
	ctx := context.Background()
	huge := strings.Repeat("x", 1<<20)
	now := time.Now()
	wait, err := l.Take(ctx, "initiate", huge, 12*time.Second, 5, now)
	require.NoError(t, err)
	require.Zero(t, wait)

	keys, err := c.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Len(t, keys[0], len(prefix+"key:initiate:")+64, "a SHA-256 of the key, not the key")
	ttl, err := c.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Duration(0))
	assert.LessOrEqual(t, ttl, 12*time.Second+2*time.Second, "forgotten once full again (plus the clock-skew margin)")

	// A bucket given back to full is forgotten at once.
	require.NoError(t, l.Return(ctx, "initiate", huge, 12*time.Second, 5, now))
	n, err := c.Exists(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Zero(t, n)
}

// downStore returns a store on a loopback port nothing listens on, with a
// password that must never show in an error.
func limDownStore(t testing.TB) *state.Store {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := redis.NewClient(&redis.Options{Addr: addr, Password: "hunter2-secret", DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	st, err := New(c, Options{})
	require.NoError(t, err)
	return st
}

func TestRedisDown(t *testing.T) {
	st := limDownStore(t)
	l := st.Limits()
	now := time.Now()
	ws := []state.Window{{Limit: 30, Period: time.Minute, Counted: true}, {Limit: 20, Period: time.Second}}
	calls := map[string]func(ctx context.Context) error{
		"admit": func(ctx context.Context) error {
			_, err := l.Admit(ctx, "acct", ws, now)
			return err
		},
		"report": func(ctx context.Context) error {
			return l.Report(ctx, "acct", ws, 0, state.Report{Remaining: 1, HasRemaining: true}, now)
		},
		"block": func(ctx context.Context) error { return l.Block(ctx, "acct", now.Add(time.Minute)) },
		"take": func(ctx context.Context) error {
			_, err := l.Take(ctx, "initiate", "u", 12*time.Second, 5, now)
			return err
		},
		"return": func(ctx context.Context) error { return l.Return(ctx, "initiate", "u", 12*time.Second, 5, now) },
		"claim": func(ctx context.Context) error {
			_, err := st.Claims().Claim(ctx, state.KeyOf("k"), time.Minute)
			return err
		},
		"release": func(ctx context.Context) error { return st.Claims().Release(ctx, state.KeyOf("k")) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			var err error
			require.NotPanics(t, func() { err = call(ctx) })
			require.Error(t, err)
			assert.Less(t, time.Since(start), time.Second, "fails fast")
			assert.True(t, strings.HasPrefix(err.Error(), "redisstate: "+name), "%v", err)
			assert.NotContains(t, err.Error(), "hunter2")
			var op *net.OpError
			assert.True(t, errors.As(err, &op) || errors.Is(err, context.DeadlineExceeded), "the cause is kept: %v", err)
		})
	}
}

// limCountHook counts the commands a client sends.
type limCountHook struct{ n atomic.Int64 }

func (h *limCountHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *limCountHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *limCountHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestOneRoundTripEach(t *testing.T) {
	stores, c, _ := limStores(t, 1)
	st := stores[0]
	l := st.Limits()
	ctx := context.Background()
	now := time.Now()
	ws := []state.Window{{Limit: 30, Period: time.Minute, Counted: true}, {Limit: 20, Period: time.Second}}
	calls := []struct {
		name string
		call func() error
	}{
		{"admit", func() error { _, err := l.Admit(ctx, "acct", ws, now); return err }},
		{"report", func() error {
			return l.Report(ctx, "acct", ws, 0, state.Report{Remaining: 9, HasRemaining: true, Reset: now.Add(time.Minute), HasReset: true}, now)
		}},
		{"block", func() error { return l.Block(ctx, "acct", now.Add(time.Minute)) }},
		{"take", func() error { _, err := l.Take(ctx, "initiate", "u", 12*time.Second, 5, now); return err }},
		{"return", func() error { return l.Return(ctx, "initiate", "u", 12*time.Second, 5, now) }},
		{"claim", func() error { _, err := st.Claims().Claim(ctx, state.KeyOf("k"), time.Minute); return err }},
		{"release", func() error { return st.Claims().Release(ctx, state.KeyOf("k")) }},
	}
	h := &limCountHook{}
	c.AddHook(h)
	for _, cl := range calls {
		require.NoError(t, cl.call(), cl.name) // loads the script if Redis lacks it
		before := h.n.Load()
		require.NoError(t, cl.call(), cl.name)
		assert.EqualValues(t, 1, h.n.Load()-before, "%s: one round trip", cl.name)
	}
}

func BenchmarkAdmit(b *testing.B) {
	stores, _, _ := limStores(b, 1)
	l := stores[0].Limits()
	ctx := context.Background()
	ws := []state.Window{{Limit: 1 << 30, Period: time.Hour, Counted: true}, {Limit: 1 << 30, Period: time.Second}}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		wait, err := l.Admit(ctx, "acct", ws, now.Add(time.Duration(i)*time.Microsecond))
		if err != nil || wait != 0 {
			b.Fatalf("admit: %v, wait %v", err, wait)
		}
	}
}
