package aircall_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// eventSink collects the events an EventFunc receives.
type eventSink struct {
	mu  sync.Mutex
	evs []telephony.CallEvent
	err error // returned once, then cleared
}

func (s *eventSink) fn(_ context.Context, ev telephony.CallEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.err; err != nil {
		s.err = nil
		return err
	}
	s.evs = append(s.evs, ev)
	return nil
}

func (s *eventSink) all() []telephony.CallEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]telephony.CallEvent(nil), s.evs...)
}

func webhookSetup(t *testing.T, sim *aircalltest.Server, sink *eventSink, opts aircall.WebhookOptions) (*aircall.WebhookHandler, string) {
	t.Helper()
	if opts.Secret == "" {
		opts.Secret = hookToken
	}
	h, err := aircall.NewWebhookHandler(sink.fn, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = h.Close(context.Background())
	})
	sim.SetWebhook(srv.URL, hookToken)
	return h, srv.URL
}

func TestWebhookTokenTable(t *testing.T) {
	sim := newSim(t)
	sink := &eventSink{}
	h, url := webhookSetup(t, sim, sink, aircall.WebhookOptions{})
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	var got []int
	for _, token := range []string{"not-the-token", "", hookToken} {
		sim.SetWebhook(url, token)
		status, err := sim.DeliverEvent("call.created", id)
		require.NoError(t, err, "token %q", token)
		got = append(got, status)
	}
	require.NoError(t, h.Close(t.Context()))
	t.Logf("webhook token table (wrong, missing, right): %v; events delivered=%d", got, len(sink.all()))
	assert.Equal(t, []int{401, 401, 200}, got, "statuses (wrong, missing, right)")
	assert.Len(t, sink.all(), 1, "events")
}

func TestWebhookCallLifecycle(t *testing.T) {
	sim := newSim(t)
	agent := sim.SeedUsers(1)[0]
	sink := &eventSink{}
	h, _ := webhookSetup(t, sim, sink, aircall.WebhookOptions{})

	answered := sim.SimulateInboundCall("+33 6 12 34 56 78", "+1 415 555 0100")
	require.NoError(t, sim.AnswerCall(answered, agent.ID))
	require.NoError(t, sim.HangUp(answered))
	missed := sim.SimulateInboundCall("+33612345679", "+14155550100")
	require.NoError(t, sim.HangUp(missed))
	require.NoError(t, h.Close(t.Context()))
	byKey := map[string]telephony.CallEvent{}
	for _, ev := range sink.all() {
		byKey[ev.CallID+" "+ev.Type] = ev
	}
	want := []struct {
		id     int64
		typ    string
		status telephony.CallStatus
		agent  bool
	}{
		{answered, "call.created", telephony.StatusRinging, false},
		{answered, "call.answered", telephony.StatusInProgress, true},
		{answered, "call.hungup", telephony.StatusCompleted, true},
		{answered, "call.ended", telephony.StatusCompleted, true},
		{missed, "call.created", telephony.StatusRinging, false},
		{missed, "call.ended", telephony.StatusMissed, false},
	}
	for _, w := range want {
		key := fmt.Sprint(w.id) + " " + w.typ
		if !assert.Contains(t, byKey, key, "no %s for call %d", w.typ, w.id) {
			continue
		}
		ev := byKey[key]
		what := fmt.Sprintf("%s for call %d: %+v", w.typ, w.id, ev)
		assert.Equal(t, w.status, ev.Status, what)
		assert.Equal(t, "aircall", ev.Provider, what)
		assert.Equal(t, telephony.DirectionInbound, ev.Direction, what)
		assert.Equal(t, "+14155550100", ev.To, what)
		assert.False(t, ev.Time.IsZero(), what)
		assert.Equal(t, w.agent, ev.AgentID != "", "agent set; "+what)
	}
	assert.Equal(t, "+33612345678", byKey[fmt.Sprint(answered)+" call.created"].From, "From, want the caller in E.164")
	assert.Len(t, sink.all(), 7, "events")
}

// R20: one event delivered 5 times at once reaches the EventFunc once; an
// EventFunc error is reported and lets a redelivery through.
func TestWebhookDedupeAndErrors(t *testing.T) {
	sim := newSim(t)
	sink := &eventSink{err: errors.New("db down")}
	var reported []error
	var mu sync.Mutex
	h, _ := webhookSetup(t, sim, sink, aircall.WebhookOptions{OnError: func(_ context.Context, err *telephony.HandlerError) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	status, _ := sim.DeliverEvent("call.created", id)
	require.Equal(t, http.StatusOK, status, "status of the first delivery")
	waitFor(t, func() bool { return h.Stats().Failed == 1 })
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = sim.DeliverEvent("call.created", id) }()
	}
	wg.Wait()
	require.NoError(t, h.Close(t.Context()))
	t.Logf("R20 one call.created delivered 5 times concurrently after a failed first delivery: EventFunc side effects=%d stats=%+v", len(sink.all()), h.Stats())
	assert.Len(t, sink.all(), 1, "EventFunc side effects")
	assert.Equal(t, int64(4), h.Stats().Duplicates, "stats %+v", h.Stats())
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, reported, 1, "errors reported")
}

// R19: the handler answers before the EventFunc finishes.
func TestWebhookAcknowledgesFast(t *testing.T) {
	sim := newSim(t)
	release := make(chan struct{})
	hh, err := aircall.NewWebhookHandler(func(ctx context.Context, _ telephony.CallEvent) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}, aircall.WebhookOptions{Secret: hookToken, MaxInFlight: 10, MaxQueued: 5})
	require.NoError(t, err)
	h := hh
	srv := httptest.NewServer(h)
	defer srv.Close()
	sim.SetWebhook(srv.URL, hookToken)
	var slowest time.Duration
	statuses := map[int]int{}
	for range 20 {
		id := sim.CreateInboundCall("+33612345678", "+14155550100")
		start := time.Now()
		status, _ := sim.DeliverEvent("call.created", id)
		slowest = max(slowest, time.Since(start))
		statuses[status]++
	}
	close(release)
	require.NoError(t, h.Close(t.Context()))
	t.Logf("R19 20 deliveries with a blocked EventFunc, 10 slots and 5 queued: statuses=%v slowest ack=%v stats=%+v",
		statuses, slowest.Round(time.Microsecond), h.Stats())
	// Aircall gets 200 for every genuine delivery: what does not fit is
	// dropped and counted, never refused.
	assert.Equal(t, 20, statuses[200], "statuses = %v, want 20x200", statuses)
	assert.Zero(t, statuses[503], "statuses = %v, want no 503", statuses)
	assert.Equal(t, int64(5), h.Stats().Dropped, "stats %+v", h.Stats())
	assert.Equal(t, int64(15), h.Stats().Accepted, "stats %+v", h.Stats())
	assert.LessOrEqual(t, slowest, 2*time.Second, "slowest acknowledgement")
}

func TestNewWebhookHandlerNeedsTokenAndFunc(t *testing.T) {
	_, err := aircall.NewWebhookHandler(func(context.Context, telephony.CallEvent) error { return nil }, aircall.WebhookOptions{Secret: ""})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "empty token accepted")
	_, err = aircall.NewWebhookHandler(nil, aircall.WebhookOptions{Secret: "t"})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "nil EventFunc accepted")
}

// Two call.ringing_on_agent events for the same call in the same second,
// for two agents, are distinct events; an identical redelivery is not.
func TestWebhookDedupeKeepsDistinctEventsOfOneSecond(t *testing.T) {
	sim := newSim(t)
	sink := &eventSink{}
	h, url := webhookSetup(t, sim, sink, aircall.WebhookOptions{})
	body := func(user int64) string {
		return fmt.Sprintf(`{"resource":"call","event":"call.ringing_on_agent","timestamp":1700000000,"token":%q,`+
			`"data":{"id":42,"direction":"inbound","status":"initial","raw_digits":"+33612345678","user":{"id":%d}}}`, hookToken, user)
	}
	for _, b := range []string{body(7), body(8), body(8)} {
		resp, err := http.Post(url, "application/json", strings.NewReader(b))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "status")
	}
	require.NoError(t, h.Close(t.Context()))
	var agents []string
	for _, ev := range sink.all() {
		agents = append(agents, ev.AgentID)
	}
	sort.Strings(agents)
	t.Logf("ringing_on_agent for agents 7, 8 and a redelivery of 8, same second: agents delivered=%v duplicates=%d", agents, h.Stats().Duplicates)
	assert.Equal(t, []string{"7", "8"}, agents, "agents delivered")
	assert.Equal(t, int64(1), h.Stats().Duplicates, "stats %+v", h.Stats())
}

// A call duration whose nanoseconds overflow int64 is unknown (0), never
// negative.
func TestWebhookHugeDuration(t *testing.T) {
	for _, tc := range []struct {
		secs int64
		want time.Duration
	}{
		{60, time.Minute},
		{9223372035, 9223372035 * time.Second},
		{9223372037, 0},
		{1 << 62, 0},
		{-5, 0},
	} {
		body := fmt.Sprintf(`{"resource":"call","event":"call.ended","timestamp":1700000000,"token":"t","data":{"id":42,"duration":%d}}`, tc.secs)
		ev, err := aircall.ParseEvent([]byte(body), "t")
		require.NoError(t, err, "duration %d s", tc.secs)
		c, err := ev.Call()
		require.NoError(t, err, "duration %d s", tc.secs)
		assert.Equal(t, tc.want, ev.CallEvent(c).Duration, "duration %d s", tc.secs)
	}
}
