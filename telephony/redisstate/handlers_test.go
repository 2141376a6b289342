package redisstate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/switchboard-go/switchboard/internal/redistest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/redisstate"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// counts records how many times each event was processed.
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) add(ev telephony.CallEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[ev.Type+"/"+ev.CallID]++
}

func (c *counts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// durableStores returns n Redis stores sharing one prefix, with short
// retry and claim times.
func durableStores(t *testing.T, n int, opts *redis.Options) []*state.Store {
	t.Helper()
	return redisStores(t, n, opts, redisstate.Options{
		Consume: state.ConsumeOptions{RetryBackoff: 20 * time.Millisecond, ClaimIdle: 300 * time.Millisecond}})
}

// Aircall events delivered to two replicas, each event twice (once to
// each), the EventFunc failing the first try of every third event: every
// event is processed exactly once, by some replica, after the 200.
func TestDurableEventsAcrossReplicas(t *testing.T) {
	opts := redistest.Options(t)
	redistest.Client(t)
	sim := aircalltest.NewServer()
	defer sim.Close()
	const token = "durable-webhook-token"
	sim.SetWebhook("http://127.0.0.1:1/unused", token)
	var done counts
	var tries sync.Map
	fn := func(_ context.Context, ev telephony.CallEvent) error {
		n, _ := tries.LoadOrStore(ev.CallID, new(atomic.Int64))
		if k := n.(*atomic.Int64).Add(1); k == 1 && ev.CallID[len(ev.CallID)-1]%3 == 0 {
			return errors.New("transient failure")
		}
		done.add(ev)
		return nil
	}
	var urls []string
	var handlers []*aircall.WebhookHandler
	for _, st := range durableStores(t, 2, opts) {
		h, err := aircall.NewWebhookHandler(fn, aircall.WebhookOptions{Secret: token, State: st})
		require.NoError(t, err)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls, handlers = append(urls, srv.URL), append(handlers, h)
	}
	const events = 40
	for i := range events {
		id := sim.CreateInboundCall(fmt.Sprintf("+1415555%04d", i), "+14155550000")
		body, err := sim.Payload("call.created", id)
		require.NoError(t, err)
		for _, u := range urls {
			resp, err := http.Post(u, "application/json", bytes.NewReader(body))
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			resp.Body.Close()
		}
	}
	require.Eventually(t, func() bool { return len(done.snapshot()) == events }, 10*time.Second, 20*time.Millisecond,
		"every event processed")
	time.Sleep(200 * time.Millisecond) // a second processing, if there were one, would show now
	twice := 0
	for _, n := range done.snapshot() {
		if n > 1 {
			twice++
		}
	}
	var durable int64
	for _, h := range handlers {
		durable += h.Stats().Durable
		require.NoError(t, h.Close(context.Background()))
	}
	t.Logf("durable events, 2 replicas: %d events each delivered twice, %d appended, %d processed, %d processed twice, %d lost",
		events, durable, len(done.snapshot()), twice, events-len(done.snapshot()))
	assert.Equal(t, int64(2*events), durable, "every delivery appended before its 200")
	assert.Zero(t, twice, "processed twice")
}

// Redis stops: Aircall (which never retries) still gets 200 and the event
// is processed in this process, logged and counted; Dialpad (which retries
// a 5xx) gets 503, so its redelivery is not lost either.
func TestDurableEventsRedisDown(t *testing.T) {
	srv, err := redistest.Start()
	if err != nil {
		redistest.Unavailable(t, err)
	}
	defer srv.Close()
	stores := durableStores(t, 2, &redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	sim := aircalltest.NewServer()
	defer sim.Close()
	const token = "durable-webhook-token"
	sim.SetWebhook("http://127.0.0.1:1/unused", token)
	var done counts
	ah, err := aircall.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error { done.add(ev); return nil },
		aircall.WebhookOptions{Secret: token, State: stores[0], Logger: log})
	require.NoError(t, err)
	aSrv := httptest.NewServer(ah)
	defer aSrv.Close()
	dh, err := dialpad.NewWebhookHandler(func(context.Context, telephony.CallEvent) error { return nil },
		dialpad.WebhookOptions{Secret: "", AllowUnsigned: true, State: stores[1], Logger: log})
	require.NoError(t, err)
	dSrv := httptest.NewServer(dh)
	defer dSrv.Close()

	srv.Stop()
	id := sim.CreateInboundCall("+14155550001", "+14155550000")
	body, err := sim.Payload("call.created", id)
	require.NoError(t, err)
	resp, err := http.Post(aSrv.URL, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "aircall: 200, processed in process")
	require.Eventually(t, func() bool { return len(done.snapshot()) == 1 }, 5*time.Second, 10*time.Millisecond, "processed in process")

	resp, err = http.Post(dSrv.URL, "application/json", bytes.NewReader([]byte(`{"call_id":1,"state":"hangup","event_timestamp":1700000000000}`)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "dialpad: 503, redelivered by Dialpad")

	as, ds := ah.Stats(), dh.Stats()
	t.Logf("redis down: aircall answered %d, degraded=%d; dialpad answered 503, degraded=%d, busy=%d",
		http.StatusOK, as.Degraded, ds.Degraded, ds.Busy)
	assert.Positive(t, as.Degraded, "aircall degradation counted")
	assert.Positive(t, ds.Degraded, "dialpad degradation counted")
	assert.Contains(t, logs.String(), "processing this event in process, not durably")
	assert.Contains(t, logs.String(), "answered 503 so the provider redelivers")
	require.NoError(t, ah.Close(context.Background()))
	require.NoError(t, dh.Close(context.Background()))
}

// One Aircall URL for routing and events on a Redis store: the events go
// through the durable log (appended before the 200), the call is routed
// once.
func TestDurableAircallRoutingWithEvents(t *testing.T) {
	opts := redistest.Options(t)
	redistest.Client(t)
	st := durableStores(t, 1, opts)[0]
	sim := aircalltest.NewServer()
	defer sim.Close()
	agent := sim.SeedUsers(1)[0]
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	require.NoError(t, err)
	const token = "durable-webhook-token"
	var done counts
	h, err := aircall.NewRoutingHandler(func(context.Context, telephony.InboundCall) (telephony.Target, error) {
		return telephony.UserTarget(fmt.Sprint(agent.ID)), nil
	}, aircall.RoutingOptions{Secret: token, Client: ac, State: st,
		Events: func(_ context.Context, ev telephony.CallEvent) error { done.add(ev); return nil }})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	sim.SetWebhook(srv.URL, token)

	id := sim.SimulateInboundCall("+14155550001", "+14155000001")
	require.Eventually(t, func() bool { return h.Stats().Routed == 1 }, 5*time.Second, 10*time.Millisecond, "routed")
	require.NoError(t, sim.AnswerCall(id, agent.ID))
	require.NoError(t, sim.HangUp(id))
	require.Eventually(t, func() bool { return len(done.snapshot()) == 4 }, 5*time.Second, 10*time.Millisecond, "events processed")
	require.NoError(t, h.Close(context.Background()))
	s := h.Stats()
	t.Logf("one URL on Redis: events=%v transfers=%d stats=%+v", done.snapshot(), len(sim.Transfers()), s)
	assert.Equal(t, int64(4), s.Durable, "events appended to the durable log: stats %+v", s)
	assert.Equal(t, int64(4), s.Delivered, "stats %+v", s)
	assert.Len(t, sim.Transfers(), 1, "transfers")
	for k, n := range done.snapshot() {
		assert.Equal(t, 1, n, "%s processed once", k)
	}
}
