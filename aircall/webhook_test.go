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
	hh, err := aircall.NewWebhookHandler(hookToken, sink.fn, opts)
	if err != nil {
		t.Fatal(err)
	}
	h := hh.(*aircall.WebhookHandler)
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
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, status)
	}
	if err := h.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("webhook token table (wrong, missing, right): %v; events delivered=%d", got, len(sink.all()))
	if fmt.Sprint(got) != "[401 401 200]" || len(sink.all()) != 1 {
		t.Errorf("statuses %v, events %d", got, len(sink.all()))
	}
}

func TestWebhookCallLifecycle(t *testing.T) {
	sim := newSim(t)
	agent := sim.SeedUsers(1)[0]
	sink := &eventSink{}
	h, _ := webhookSetup(t, sim, sink, aircall.WebhookOptions{})

	answered := sim.SimulateInboundCall("+33 6 12 34 56 78", "+1 415 555 0100")
	if err := sim.AnswerCall(answered, agent.ID); err != nil {
		t.Fatal(err)
	}
	if err := sim.HangUp(answered); err != nil {
		t.Fatal(err)
	}
	missed := sim.SimulateInboundCall("+33612345679", "+14155550100")
	if err := sim.HangUp(missed); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
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
		ev, ok := byKey[fmt.Sprint(w.id)+" "+w.typ]
		if !ok {
			t.Errorf("no %s for call %d", w.typ, w.id)
			continue
		}
		if ev.Status != w.status || ev.Provider != "aircall" || ev.Direction != telephony.DirectionInbound ||
			ev.To != "+14155550100" || ev.Time.IsZero() || (ev.AgentID != "") != w.agent {
			t.Errorf("%s for call %d: %+v", w.typ, w.id, ev)
		}
	}
	if ev := byKey[fmt.Sprint(answered)+" call.created"]; ev.From != "+33612345678" {
		t.Errorf("From = %q, want the caller in E.164", ev.From)
	}
	if len(sink.all()) != 7 {
		t.Errorf("events = %d, want 7", len(sink.all()))
	}
}

// R20: one event delivered 5 times at once reaches the EventFunc once; an
// EventFunc error is reported and lets a redelivery through.
func TestWebhookDedupeAndErrors(t *testing.T) {
	sim := newSim(t)
	sink := &eventSink{err: errors.New("db down")}
	var reported []error
	var mu sync.Mutex
	h, _ := webhookSetup(t, sim, sink, aircall.WebhookOptions{OnError: func(_ context.Context, _ telephony.CallEvent, err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}})
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	if status, _ := sim.DeliverEvent("call.created", id); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	waitFor(t, func() bool { return h.Stats().Failed == 1 })
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = sim.DeliverEvent("call.created", id) }()
	}
	wg.Wait()
	if err := h.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("R20 one call.created delivered 5 times concurrently after a failed first delivery: EventFunc side effects=%d stats=%+v", len(sink.all()), h.Stats())
	if len(sink.all()) != 1 || h.Stats().Duplicates != 4 || len(reported) != 1 {
		t.Errorf("events %d, stats %+v, reported %v", len(sink.all()), h.Stats(), reported)
	}
}

// R19: the handler answers before the EventFunc finishes.
func TestWebhookAcknowledgesFast(t *testing.T) {
	sim := newSim(t)
	release := make(chan struct{})
	hh, err := aircall.NewWebhookHandler(hookToken, func(ctx context.Context, _ telephony.CallEvent) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}, aircall.WebhookOptions{MaxInFlight: 10})
	if err != nil {
		t.Fatal(err)
	}
	h := hh.(*aircall.WebhookHandler)
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
	if err := h.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("R19 20 deliveries with a blocked EventFunc and 10 slots: statuses=%v slowest ack=%v", statuses, slowest.Round(time.Microsecond))
	if statuses[200] != 10 || statuses[503] != 10 {
		t.Errorf("statuses = %v, want 10x200 and 10x503", statuses)
	}
	if slowest > 2*time.Second {
		t.Errorf("slowest acknowledgement %v", slowest)
	}
}

func TestNewWebhookHandlerNeedsTokenAndFunc(t *testing.T) {
	if _, err := aircall.NewWebhookHandler("", func(context.Context, telephony.CallEvent) error { return nil }, aircall.WebhookOptions{}); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := aircall.NewWebhookHandler("t", nil, aircall.WebhookOptions{}); err == nil {
		t.Error("nil EventFunc accepted")
	}
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
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if err := h.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	var agents []string
	for _, ev := range sink.all() {
		agents = append(agents, ev.AgentID)
	}
	sort.Strings(agents)
	t.Logf("ringing_on_agent for agents 7, 8 and a redelivery of 8, same second: agents delivered=%v duplicates=%d", agents, h.Stats().Duplicates)
	if fmt.Sprint(agents) != "[7 8]" || h.Stats().Duplicates != 1 {
		t.Errorf("agents %v, stats %+v", agents, h.Stats())
	}
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
		if err != nil {
			t.Fatal(err)
		}
		c, err := ev.Call()
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.CallEvent(c).Duration; got != tc.want {
			t.Errorf("duration %d s: got %v, want %v", tc.secs, got, tc.want)
		}
	}
}
