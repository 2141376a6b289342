package aircall_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
)

// A burst of 5,000 call.created with 4 routing slots and 4 queued: every
// delivery is answered 200 (Aircall does not retry and deactivates failing
// webhooks, so a 503 would lose the call and risk the webhook); what does
// not fit is counted as dropped and reported, the rest is routed.
func TestRoutingBurstIsAnswered200(t *testing.T) {
	// 5,000 is the burst that once drew 2,615 answers of 503; the default
	// run sends 1,000 (the long run, SWITCHBOARD_LONG=1, the 5,000).
	burst := 1000
	if testenv.IsLong() {
		burst = 5000
	}
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	release := make(chan struct{})
	route := func(ctx context.Context, _ telephony.InboundCall) (telephony.Target, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return telephony.UserTarget(strconv.FormatInt(u.ID, 10)), nil
	}
	var reported atomic.Int64
	h, _ := routingSetup(t, sim, route, aircall.RoutingOptions{MaxInFlight: 4, MaxQueued: 4, Timeout: 5 * time.Minute,
		RouteTimeout: 4 * time.Minute, OnError: func(context.Context, *telephony.HandlerError) { reported.Add(1) }})
	ids := make(chan int64, burst)
	for range burst {
		ids <- sim.CreateInboundCall("+33612345678", "+14155550100")
	}
	close(ids)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				// The simulator's genuine body, served in process: the
				// burst measures the handler, not 5,000 TCP round trips.
				body, err := sim.Payload("call.created", id)
				assert.NoError(t, err)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/aircall/calls", bytes.NewReader(body)))
				mu.Lock()
				statuses[rec.Code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(release)
	drain(t, h)
	s := h.Stats()
	t.Logf("burst of %d call.created, 4 slots + 4 queued: statuses=%v in %v; accepted=%d dropped=%d routed=%d busy=%d OnError=%d",
		burst, statuses, elapsed.Round(time.Millisecond), s.Accepted, s.Dropped, s.Routed, s.Busy, reported.Load())
	assert.Equal(t, burst, statuses[http.StatusOK], "statuses %v: every genuine delivery answered 200", statuses)
	assert.Zero(t, statuses[http.StatusServiceUnavailable], "statuses %v: no 503", statuses)
	assert.Equal(t, int64(burst), s.Accepted+s.Dropped, "stats %+v", s)
	assert.Equal(t, int64(8), s.Accepted, "4 routed at once and 4 queued: stats %+v", s)
	assert.Equal(t, s.Accepted, s.Routed, "stats %+v", s)
	assert.Equal(t, s.Dropped, reported.Load(), "each drop reported to OnError")
	assert.Zero(t, s.Busy, "stats %+v", s)
	assert.Len(t, sim.Transfers(), int(s.Routed), "transfers")
}

// A genuine delivery (the token verifies) that cannot be decoded is
// answered 200, counted as dropped and reported; a forged one gets 401.
func TestWebhookUndecodableGenuineDeliveryIs200(t *testing.T) {
	for _, kind := range []string{"webhook", "routing"} {
		t.Run(kind, func(t *testing.T) {
			sim := newSim(t)
			var reported []*telephony.HandlerError
			var mu sync.Mutex
			onError := func(_ context.Context, err *telephony.HandlerError) {
				mu.Lock()
				defer mu.Unlock()
				reported = append(reported, err)
			}
			var url string
			var stats func() telephony.HandlerStats
			if kind == "webhook" {
				h, u := webhookSetup(t, sim, &eventSink{}, aircall.WebhookOptions{OnError: onError})
				url, stats = u, h.Stats
			} else {
				h, u := routingSetup(t, sim, toUser(1), aircall.RoutingOptions{OnError: onError})
				url, stats = u, h.Stats
			}
			tok := strconv.Quote(hookToken)
			for _, tc := range []struct {
				name, body string
				want       int
			}{
				{"no call id", `{"resource":"call","event":"call.created","timestamp":1,"token":` + tok + `,"data":{"direction":"inbound"}}`, 200},
				{"data not an object", `{"resource":"call","event":"call.ended","timestamp":1,"token":` + tok + `,"data":"?"}`, 200},
				{"no event name", `{"resource":"call","timestamp":1,"token":` + tok + `,"data":{"id":1}}`, 200},
				{"timestamp not a number", `{"resource":"call","event":"call.ended","timestamp":"soon","token":` + tok + `,"data":{"id":1}}`, 200},
				{"forged", `{"resource":"call","event":"call.ended","timestamp":1,"token":"guess","data":{"id":1}}`, 401},
				{"broken JSON", `{"resource":"call","token":` + tok, 400},
			} {
				resp, err := http.Post(url, "application/json", strings.NewReader(tc.body))
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, tc.want, resp.StatusCode, tc.name)
			}
			s := stats()
			mu.Lock()
			defer mu.Unlock()
			t.Logf("%s: undecodable genuine deliveries: dropped=%d rejected=%v OnError=%d", kind, s.Dropped, s.Rejected, len(reported))
			assert.Equal(t, int64(4), s.Dropped, "stats %+v", s)
			assert.Equal(t, int64(2), s.RejectedTotal(), "stats %+v", s)
			assert.Len(t, reported, 4, "OnError")
			for _, e := range reported {
				assert.NotContains(t, e.Error(), hookToken, "the token in a report")
			}
		})
	}
}

// One Aircall webhook URL routes calls and records their events:
// RoutingOptions.Events receives every call event (call.created included)
// while call.created is routed.
func TestRoutingOneURLRecordsEvents(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	sink := &eventSink{}
	h, url := routingSetup(t, sim, toUser(u.ID), aircall.RoutingOptions{Events: sink.fn})
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	created, err := sim.Payload("call.created", id)
	require.NoError(t, err)
	for range 2 { // a delivery and its redelivery: routed and recorded once
		resp, err := http.Post(url, "application/json", bytes.NewReader(created))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	waitFor(t, func() bool { return h.Stats().Routed == 1 })
	require.NoError(t, sim.AnswerCall(id, u.ID))
	require.NoError(t, sim.HangUp(id))
	drain(t, h)
	var types []string
	for _, ev := range sink.all() {
		types = append(types, ev.Type)
		assert.Equal(t, strconv.FormatInt(id, 10), ev.CallID)
		assert.NotEmpty(t, ev.Raw, "CallEvent.Raw")
		assert.NotContains(t, string(ev.Raw), hookToken, "the token kept in CallEvent.Raw")
	}
	s := h.Stats()
	t.Logf("one URL: events recorded=%v transfers=%d stats=%+v", types, len(sim.Transfers()), s)
	assert.ElementsMatch(t, []string{"call.created", "call.answered", "call.hungup", "call.ended"}, types)
	assert.Len(t, sim.Transfers(), 1, "transfers")
	assert.Equal(t, int64(1), s.Routed, "stats %+v", s)
	assert.Equal(t, int64(4), s.Delivered, "stats %+v", s)
	assert.Equal(t, int64(1), s.Duplicates, "stats %+v", s)
}

// Sync mode answers after the EventFunc: 500 when it failed (and the
// delivery is forgotten), so the redelivery is processed.
func TestWebhookSync(t *testing.T) {
	sim := newSim(t)
	sink := &eventSink{err: errors.New("database down")}
	h, _ := webhookSetup(t, sim, sink, aircall.WebhookOptions{Sync: true})
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	first, err := sim.DeliverEvent("call.created", id)
	require.NoError(t, err)
	assert.Empty(t, sink.all(), "answered before the EventFunc returned")
	second, err := sim.DeliverEvent("call.created", id)
	require.NoError(t, err)
	third, err := sim.DeliverEvent("call.created", id)
	require.NoError(t, err)
	s := h.Stats()
	t.Logf("sync: first=%d redelivery=%d again=%d; events=%d stats=%+v", first, second, third, len(sink.all()), s)
	assert.Equal(t, http.StatusInternalServerError, first, "a failed EventFunc")
	assert.Equal(t, http.StatusOK, second, "the redelivery")
	assert.Equal(t, http.StatusOK, third, "a duplicate")
	assert.Len(t, sink.all(), 1, "events")
	assert.Equal(t, int64(1), s.Failed, "stats %+v", s)
	assert.Equal(t, int64(1), s.Delivered, "stats %+v", s)
	assert.Equal(t, int64(1), s.Duplicates, "stats %+v", s)
}

// ParseWebhook accepts a genuine delivery and refuses a forged one.
func TestParseWebhook(t *testing.T) {
	sim := newSim(t)
	sim.SetWebhook("http://127.0.0.1:1/unused", hookToken)
	id := sim.CreateInboundCall("+33 6 12 34 56 78", "+1 415 555 0100")
	body, err := sim.Payload("call.created", id)
	require.NoError(t, err)
	ev, raw, err := aircall.ParseWebhook(body, hookToken)
	require.NoError(t, err)
	assert.Equal(t, "call.created", ev.Type)
	assert.Equal(t, strconv.FormatInt(id, 10), ev.CallID)
	assert.Equal(t, "+33612345678", ev.From)
	assert.Equal(t, "call.created", raw.Event)
	assert.NotContains(t, string(ev.Raw), hookToken)

	_, _, err = aircall.ParseWebhook(body, "another-token")
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "forged")
	_, _, err = aircall.ParseWebhook([]byte(`{"event":"call.created","data":{}}`), hookToken)
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "no token")
	_, _, err = aircall.ParseWebhook([]byte(`not json`), hookToken)
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "not JSON")
	ev, raw, err = aircall.ParseWebhook([]byte(`{"resource":"user","event":"user.created","token":"`+hookToken+`","data":{"id":1}}`), hookToken)
	require.NoError(t, err, "an event about a user")
	assert.Empty(t, ev.CallID)
	assert.Equal(t, "user.created", raw.Event)
}
