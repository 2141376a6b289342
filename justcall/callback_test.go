package justcall_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// recorder collects the events an EventFunc receives.
type recorder struct {
	mu     sync.Mutex
	events []telephony.CallEvent
}

func (r *recorder) fn(_ context.Context, ev telephony.CallEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) get() []telephony.CallEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]telephony.CallEvent(nil), r.events...)
}

// closer is what the handlers returned by this package also implement.
type closer interface{ Close(context.Context) error }

// serve mounts h on an httptest server, closed (and h drained) at cleanup.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		if err := h.(closer).Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return srv
}

func drain(t *testing.T, h http.Handler) {
	t.Helper()
	must(t, h.(closer).Close(t.Context()))
}

func TestCallbackEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		scenario justcalltest.Scenario
		want     []telephony.CallStatus
	}{
		{justcalltest.ScenarioCompleted, []telephony.CallStatus{telephony.StatusRinging, telephony.StatusInProgress, telephony.StatusCompleted}},
		{justcalltest.ScenarioNoAnswer, []telephony.CallStatus{telephony.StatusRinging, telephony.StatusNoAnswer}},
		{justcalltest.ScenarioBusy, []telephony.CallStatus{telephony.StatusRinging, telephony.StatusBusy}},
		{justcalltest.ScenarioFailed, []telephony.CallStatus{telephony.StatusFailed}},
	} {
		t.Run(string(tc.scenario), func(t *testing.T) {
			sim := newSim(t)
			sim.SetScenario(customer, tc.scenario)
			c := newClient(t, sim)
			tok, err := justcall.NewCallbackToken()
			must(t, err)
			must(t, c.SetCallbackToken(tok))
			var rec recorder
			h, err := justcall.NewCallbackHandler(rec.fn, justcall.CallbackOptions{Token: tok})
			must(t, err)
			srv := serve(t, h)

			call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer, CallbackURL: srv.URL + "/jc/status"})
			must(t, err)
			sim.Flush()
			drain(t, h)

			var got []telephony.CallStatus
			for _, ev := range rec.get() {
				got = append(got, ev.Status)
				eq(t, ev.CallID, call.CallID, "call id")
				eq(t, ev.Provider, "justcall", "provider")
				if ev.Time.IsZero() {
					t.Error("event without time")
				}
				if ev.Status == telephony.StatusCompleted {
					eq(t, ev.Duration, justcalltest.CompletedDuration*time.Second, "duration")
				}
			}
			eq(t, got, tc.want, "statuses")
			for _, d := range sim.Deliveries() {
				eq(t, d.StatusCode, 200, "callback answer")
			}
			eq(t, sim.Calls()[0].Status, string(tc.want[len(tc.want)-1]), "final status in the simulator")
		})
	}
}

func postCallback(t *testing.T, url, contentType, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	must(t, err)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestCallbackHandlerRejects(t *testing.T) {
	const tok = "0123456789abcdef0123456789abcdef"
	var rec recorder
	h, err := justcall.NewCallbackHandler(rec.fn, justcall.CallbackOptions{Token: tok})
	must(t, err)
	srv := serve(t, h)
	defer http.DefaultClient.CloseIdleConnections()
	good := `{"call_id":"call_1","status":"ringing","duration":0,"timestamp":"2026-03-12 14:30:00"}`
	ok := srv.URL + "/cb?sb_token=" + tok

	statuses := []int{
		postCallback(t, srv.URL+"/cb", "application/json", good),                // no token
		postCallback(t, srv.URL+"/cb?sb_token=wrong", "application/json", good), // wrong token
		postCallback(t, ok, "application/json", `{"call_id":"c","status":"x"}`), // unknown status
		postCallback(t, ok, "application/json", `{"status":"ringing"}`),         // no call id
		postCallback(t, ok, "application/json", `not json`),
		postCallback(t, ok, "application/json", `{"call_id":"c","status":"busy","timestamp":"yesterday"}`),
		postCallback(t, ok, "application/json", `{"call_id":"c","status":"busy","pad":"`+strings.Repeat("x", 300<<10)+`"}`),
	}
	eq(t, statuses, []int{401, 401, 400, 400, 400, 400, 413}, "statuses")
	drain(t, h)
	eq(t, len(rec.get()), 0, "events delivered")
}

func TestCallbackHandlerDedupeAndForms(t *testing.T) {
	var rec recorder
	h, err := justcall.NewCallbackHandler(rec.fn, justcall.CallbackOptions{AllowUnauthenticated: true})
	must(t, err)
	srv := serve(t, h)
	defer http.DefaultClient.CloseIdleConnections()
	body := `{"call_id":"call_8f3a2b1c","status":"completed","duration":"185","timestamp":"2026-03-12T14:30:00Z","agent_id":"42"}`
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range codes {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = postCallback(t, srv.URL, "application/json", body) }()
	}
	wg.Wait()
	eq(t, codes, []int{200, 200, 200, 200, 200}, "redeliveries are acknowledged")
	eq(t, postCallback(t, srv.URL, "application/x-www-form-urlencoded", "call_id=call_8f3a2b1c&status=in-progress&duration=3&timestamp=1773325800"), 200, "form callback")
	drain(t, h)
	evs := rec.get()
	t.Logf("callback dedupe: 5 identical deliveries -> %d event(s)", len(evs)-1)
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2 (one completed, one in-progress)", len(evs))
	}
	byStatus := map[telephony.CallStatus]telephony.CallEvent{}
	for _, ev := range evs {
		byStatus[ev.Status] = ev
	}
	done := byStatus[telephony.StatusCompleted]
	eq(t, []any{done.CallID, done.Duration, done.AgentID, done.Time.Format(time.RFC3339)},
		[]any{"call_8f3a2b1c", 185 * time.Second, "42", "2026-03-12T14:30:00Z"}, "completed event")
	eq(t, byStatus[telephony.StatusInProgress].Time.Unix(), int64(1773325800), "form timestamp")
}

func TestNewCallbackHandlerNeedsAToken(t *testing.T) {
	noop := func(context.Context, telephony.CallEvent) error { return nil }
	if _, err := justcall.NewCallbackHandler(noop, justcall.CallbackOptions{}); err == nil {
		t.Error("no token and no AllowUnauthenticated: want an error")
	}
	if _, err := justcall.NewCallbackHandler(noop, justcall.CallbackOptions{Token: "short"}); err == nil {
		t.Error("short token: want an error")
	}
	if _, err := justcall.NewCallbackHandler(nil, justcall.CallbackOptions{AllowUnauthenticated: true}); err == nil {
		t.Error("nil fn: want an error")
	}
}

// TestCallbackHandlerSurvivesPanics: a panicking EventFunc does not take the
// server down, and the failed event is handled again when redelivered.
func TestCallbackHandlerSurvivesPanics(t *testing.T) {
	var calls atomic.Int32
	h, err := justcall.NewCallbackHandler(func(context.Context, telephony.CallEvent) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}, justcall.CallbackOptions{AllowUnauthenticated: true})
	must(t, err)
	srv := serve(t, h)
	defer http.DefaultClient.CloseIdleConnections()
	body := `{"call_id":"c1","status":"busy"}`
	// Redeliver until the second attempt runs: the key is forgotten only
	// once the panicking job has finished.
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < 2 && time.Now().Before(deadline) {
		eq(t, postCallback(t, srv.URL, "application/json", body), 200, "delivery")
		time.Sleep(5 * time.Millisecond)
	}
	drain(t, h)
	eq(t, calls.Load(), int32(2), "fn calls (the panicking one, then the redelivery)")
}
