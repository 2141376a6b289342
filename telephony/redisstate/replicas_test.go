package redisstate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/internal/redistest"
	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/redisstate"
	"github.com/switchboard-go/switchboard/telephony/state"
	"golang.org/x/time/rate"
)

// replicaStores returns n stores on one Redis, each with its own
// connection, as n processes would have; "memory" gives n memory stores.
func replicaStores(t *testing.T, kind string, n int, opts *redis.Options) []*state.Store {
	t.Helper()
	if kind == "memory" {
		out := make([]*state.Store, n)
		for i := range out {
			out[i] = state.Memory()
		}
		return out
	}
	return redisStores(t, n, opts, redisstate.Options{})
}

// redisStores returns n Redis stores sharing one fresh prefix (set in
// ro, with Replicas n), each on its own connection.
func redisStores(t *testing.T, n int, opts *redis.Options, ro redisstate.Options) []*state.Store {
	t.Helper()
	ro.Prefix, ro.Replicas = redistest.Prefix(t), n
	out := make([]*state.Store, n)
	for i := range out {
		c := redis.NewClient(opts)
		t.Cleanup(func() { _ = c.Close() })
		st, err := redisstate.New(c, ro)
		require.NoError(t, err)
		out[i] = st
	}
	return out
}

// Fifteen dials for one Dialpad agent from three replicas: Dialpad allows
// five a minute per user. Shared, the replicas send exactly five; each on
// its own, every replica believes it has the five.
func TestReplicasDialpadPerUserLimit(t *testing.T) {
	opts := redistest.Options(t)
	redistest.Client(t) // skips (or fails in CI) without Redis
	for _, kind := range []string{"redis", "memory"} {
		t.Run(kind, func(t *testing.T) {
			sim := dialpadtest.NewServer()
			defer sim.Close()
			sim.SetRateLimit(dialpadtest.RateLimit{CallsPerUserPerMinute: 5})
			user := sim.SeedUsers(1)[0]
			stores := replicaStores(t, kind, 3, opts)
			var placed, refused atomic.Int64
			var wg sync.WaitGroup
			for i, st := range stores {
				dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(sim.URL()), telephony.WithState(st),
					telephony.WithMaxRetryWait(50*time.Millisecond), telephony.WithMaxAttempts(1))
				require.NoError(t, err)
				for j := range 5 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := dp.Calls.Initiate(context.Background(), dialpad.InitiateCallRequest{
							PhoneNumber: fmt.Sprintf("+1415555%04d", i*10+j), UserID: user.ID})
						switch {
						case err == nil:
							placed.Add(1)
						case errors.Is(err, telephony.ErrRateLimited):
							refused.Add(1)
						default:
							assert.NoError(t, err)
						}
					}()
				}
			}
			wg.Wait()
			posts := sim.Count(http.MethodPost, "/api/v2/call")
			t.Logf("dialpad per-user limit, 3 replicas (%s): 15 dials, placed=%d, refused before sending=%d, POSTs=%d, provider 429s=%d",
				kind, placed.Load(), refused.Load(), posts, posts-int(placed.Load()))
			assert.Equal(t, int64(5), placed.Load(), "placed")
			if kind == "redis" {
				assert.Equal(t, 5, posts, "with shared state only the allowed five reach Dialpad")
			} else {
				assert.Greater(t, posts, 5, "each memory replica spends the whole per-user budget")
			}
		})
	}
}

// Three replicas ask Aircall for three times the account's quota (60 a
// minute) at once. Shared, they stop where the provider's window is spent:
// provider 429s stay at or under 1% of requests and goodput at or over 90%
// of the quota.
func TestReplicasAircallQuota(t *testing.T) {
	opts := redistest.Options(t)
	redistest.Client(t)
	for _, kind := range []string{"redis", "memory"} {
		t.Run(kind, func(t *testing.T) {
			sim := aircalltest.NewServer()
			defer sim.Close()
			users := sim.SeedUsers(3)
			const quota = 60
			sim.SetRateLimit(quota, time.Minute)
			stores := replicaStores(t, kind, 3, opts)
			// The simulator's windows follow the clock minute; requests in
			// flight across a boundary land in the provider's next window
			// (a few 429s no client can avoid). The figure is about the
			// steady state: start clear of a boundary.
			if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 3*time.Second {
				time.Sleep(left + 100*time.Millisecond)
			}
			start := time.Now()
			var ok, refused atomic.Int64
			var wg sync.WaitGroup
			for i, st := range stores {
				ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()),
					telephony.WithState(st), telephony.WithMaxRetryWait(50*time.Millisecond), telephony.WithMaxAttempts(1))
				require.NoError(t, err)
				for j := range quota {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := ac.Users.Get(context.Background(), users[(i+j)%len(users)].ID)
						switch {
						case err == nil:
							ok.Add(1)
						case errors.Is(err, telephony.ErrRateLimited):
							refused.Add(1)
						default:
							assert.NoError(t, err)
						}
					}()
				}
			}
			wg.Wait()
			// The simulator's windows follow the clock: a run across a
			// minute boundary is allowed two windows.
			windows := 1
			if start.Truncate(time.Minute) != time.Now().Truncate(time.Minute) {
				windows = 2
			}
			requests := sim.Count(http.MethodGet, "/v1/users/")
			throttled := sim.Throttled()
			share := float64(throttled) / float64(max(requests, 1))
			goodput := float64(ok.Load()) / float64(quota*windows)
			t.Logf("aircall 3 replicas at 3x quota (%s): asked %d, provider requests=%d, provider 429s=%d (%.1f%%), goodput=%.2f of the quota, refused before sending=%d",
				kind, 3*quota, requests, throttled, 100*share, goodput, refused.Load())
			if kind == "redis" {
				assert.LessOrEqual(t, share, 0.01, "provider 429s as a share of requests")
				assert.GreaterOrEqual(t, goodput, 0.9, "goodput against the quota")
			} else {
				assert.Greater(t, throttled, 0, "memory replicas each spend the whole quota and draw 429s")
			}
		})
	}
}

// One call.created delivered to three replicas transfers the call once
// when they share a store, three times when each has its own memory.
func TestReplicasAircallOneTransferPerCall(t *testing.T) {
	opts := redistest.Options(t)
	redistest.Client(t)
	for _, kind := range []string{"redis", "memory"} {
		t.Run(kind, func(t *testing.T) {
			sim := aircalltest.NewServer()
			defer sim.Close()
			agent := sim.SeedUsers(1)[0]
			const token = "replica-webhook-token"
			sim.SetWebhook("http://127.0.0.1:1/unused", token)
			route := func(context.Context, telephony.InboundCall) (telephony.Target, error) {
				return telephony.Target{Type: telephony.TargetUser, ID: fmt.Sprint(agent.ID)}, nil
			}
			var urls []string
			var handlers []*aircall.RoutingHandler
			for _, st := range replicaStores(t, kind, 3, opts) {
				ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
				require.NoError(t, err)
				h, err := aircall.NewRoutingHandler(route, aircall.RoutingOptions{Client: ac, Secret: token, State: st})
				require.NoError(t, err)
				srv := httptest.NewServer(h)
				t.Cleanup(srv.Close)
				urls, handlers = append(urls, srv.URL), append(handlers, h)
			}
			const calls = 20
			for i := range calls {
				id := sim.CreateInboundCall(fmt.Sprintf("+1415555%04d", i), "+14155550000")
				body, err := sim.Payload("call.created", id)
				require.NoError(t, err)
				var wg sync.WaitGroup
				for _, u := range urls {
					wg.Add(1)
					go func() {
						defer wg.Done()
						resp, err := http.Post(u, "application/json", bytes.NewReader(body))
						if assert.NoError(t, err) {
							assert.Equal(t, http.StatusOK, resp.StatusCode)
							resp.Body.Close()
						}
					}()
				}
				wg.Wait()
			}
			for _, h := range handlers {
				require.NoError(t, h.Close(context.Background()))
			}
			per := map[int64]int{}
			for _, tr := range sim.Transfers() {
				per[tr.CallID]++
			}
			most := 0
			for _, n := range per {
				most = max(most, n)
			}
			t.Logf("aircall call.created to 3 replicas (%s): %d calls, %d transfers, transfers per call max=%d",
				kind, calls, len(sim.Transfers()), most)
			if kind == "redis" {
				assert.Equal(t, 1, most, "transfers per call")
				assert.Len(t, per, calls, "every call transferred")
			} else {
				assert.Greater(t, most, 1, "memory replicas each transfer the call")
			}
		})
	}
}

// Redis stops in the middle of a run: dials go on within this process's
// share of the limits, each one sent once, the fallbacks are counted; when
// Redis is back the replicas share again.
func TestReplicasRedisDown(t *testing.T) {
	srv, err := redistest.Start()
	if err != nil {
		redistest.Unavailable(t, err)
	}
	defer srv.Close()
	sim := dialpadtest.NewServer()
	defer sim.Close()
	users := sim.SeedUsers(30)
	stores := replicaStores(t, "redis", 3, &redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	var clients []*dialpad.Client
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for _, st := range stores {
		dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(sim.URL()), telephony.WithState(st), telephony.WithLogger(log),
			telephony.WithMaxRetryWait(50*time.Millisecond), telephony.WithMaxAttempts(1))
		require.NoError(t, err)
		clients = append(clients, dp)
	}
	var placed atomic.Int64
	dialAll := func(from int) {
		var wg sync.WaitGroup
		for i, dp := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u := users[from+i]
				_, err := dp.Calls.Initiate(context.Background(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: u.ID})
				if assert.NoError(t, err) {
					placed.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	dialAll(0)
	srv.Stop()
	start := time.Now()
	dialAll(3)
	down := time.Since(start)
	require.NoError(t, srv.Restart())
	dialAll(6)
	posts := sim.Count(http.MethodPost, "/api/v2/call")
	t.Logf("redis down mid-run: placed=%d, POSTs=%d (each call sent once), 3 dials with Redis down took %v",
		placed.Load(), posts, down.Round(time.Millisecond))
	assert.Equal(t, int64(9), placed.Load(), "every dial placed")
	assert.Equal(t, 9, posts, "no call sent twice")
	assert.Contains(t, logs.String(), "shared rate-limit state unavailable", "the fallback is logged")
}

// syncBuffer is a bytes.Buffer safe for concurrent writes (log output).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// callCost returns the median per-call time of Users.Get over rounds,
// memory and Redis interleaved round by round (this machine is noisy).
func callCost(t testing.TB, rounds, calls int) (mem, red time.Duration) {
	sim := aircalltest.NewServer()
	t.Cleanup(sim.Close)
	u := sim.SeedUsers(1)[0]
	opts := redistest.Options(t)
	redistest.Client(t)
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	shared, err := redisstate.New(c, redisstate.Options{Prefix: redistest.Prefix(t)})
	require.NoError(t, err)
	client := func(st *state.Store) *aircall.Client {
		// No client-side limit (the admission round trip still happens):
		// the figure is the cost of the state, not of waiting.
		ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()), telephony.WithState(st),
			telephony.WithRateLimit(rate.Inf, 0))
		require.NoError(t, err)
		return ac
	}
	clients := []*aircall.Client{client(state.Memory()), client(shared)}
	per := [2][]time.Duration{}
	for range rounds {
		for i, ac := range clients {
			start := time.Now()
			for range calls {
				_, err := ac.Users.Get(context.Background(), u.ID)
				require.NoError(t, err)
			}
			per[i] = append(per[i], time.Since(start)/time.Duration(calls))
		}
	}
	return median(per[0]), median(per[1])
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// The cost of sharing: one Redis round trip (the admission script) per
// call, on loopback, against the in-memory state.
func TestRedisRoundTripCostPerCall(t *testing.T) {
	testenv.Long(t) // a figure
	mem, red := callCost(t, 9, 200)
	t.Logf("per call (aircall Users.Get on loopback, median of 9 interleaved rounds of 200): memory state %v, Redis state %v, added %v",
		mem.Round(time.Microsecond), red.Round(time.Microsecond), (red - mem).Round(time.Microsecond))
	assert.Positive(t, red, "measured")
}

func BenchmarkCallState(b *testing.B) {
	sim := aircalltest.NewServer()
	defer sim.Close()
	u := sim.SeedUsers(1)[0]
	opts := redistest.Options(b)
	redistest.Client(b)
	c := redis.NewClient(opts)
	defer c.Close()
	shared, err := redisstate.New(c, redisstate.Options{Prefix: redistest.Prefix(b)})
	require.NoError(b, err)
	for _, tc := range []struct {
		name string
		st   *state.Store
	}{{"memory", state.Memory()}, {"redis", shared}} {
		b.Run(tc.name, func(b *testing.B) {
			ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()), telephony.WithState(tc.st),
				telephony.WithRateLimit(rate.Inf, 0))
			require.NoError(b, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ac.Users.Get(context.Background(), u.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Per-endpoint buckets belong to their account: two Dialpad accounts on
// one Redis (here two simulators, so two base URLs) each get their own
// five initiations per minute for the same user id.
func TestReplicasPerUserLimitIsPerAccount(t *testing.T) {
	opts := redistest.Options(t)
	redistest.Client(t)
	st := replicaStores(t, "redis", 1, opts)[0]
	placed := 0
	for range 2 {
		sim := dialpadtest.NewServer()
		defer sim.Close()
		sim.SetRateLimit(dialpadtest.RateLimit{CallsPerUserPerMinute: 5})
		user := sim.SeedUsers(1)[0]
		dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(sim.URL()), telephony.WithState(st),
			telephony.WithMaxRetryWait(50*time.Millisecond), telephony.WithMaxAttempts(1))
		require.NoError(t, err)
		for range 6 {
			if _, err := dp.Calls.Initiate(context.Background(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: user.ID}); err == nil {
				placed++
			}
		}
	}
	t.Logf("two Dialpad accounts on one Redis, 6 dials each for the same user id: %d placed", placed)
	assert.Equal(t, 10, placed, "five per account, not five in all")
}
