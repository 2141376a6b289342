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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		assert.NoError(t, h.(closer).Close(context.Background()), "closing the handler")
	})
	return srv
}

func drain(t *testing.T, h http.Handler) {
	t.Helper()
	require.NoError(t, h.(closer).Close(t.Context()))
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
			require.NoError(t, err)
			require.NoError(t, c.SetCallbackToken(tok))
			var rec recorder
			h, err := justcall.NewCallbackHandler(rec.fn, justcall.CallbackOptions{Secret: tok})
			require.NoError(t, err)
			srv := serve(t, h)

			call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer, CallbackURL: srv.URL + "/jc/status"})
			require.NoError(t, err)
			sim.Flush()
			drain(t, h)

			var got []telephony.CallStatus
			for _, ev := range rec.get() {
				got = append(got, ev.Status)
				assert.Equal(t, call.CallID, ev.CallID, "call id")
				assert.Equal(t, "justcall", ev.Provider, "provider")
				assert.False(t, ev.Time.IsZero(), "event without time")
				if ev.Status == telephony.StatusCompleted {
					assert.Equal(t, justcalltest.CompletedDuration*time.Second, ev.Duration, "duration")
				}
			}
			// The handler runs fn in the background, so events may reach it
			// out of order (the README says so): the order is checked where
			// it is made, in the simulator's deliveries, and the handler
			// must have received exactly those.
			assert.ElementsMatch(t, tc.want, got, "statuses")
			var sent []telephony.CallStatus
			for _, d := range sim.Deliveries() {
				assert.Equal(t, 200, d.StatusCode, "callback answer")
				sent = append(sent, telephony.CallStatus(d.Status))
			}
			assert.Equal(t, tc.want, sent, "statuses in the order JustCall sent them")
			assert.Equal(t, string(tc.want[len(tc.want)-1]), sim.Calls()[0].Status, "final status in the simulator")
		})
	}
}

// postStatus posts body and returns the answer's status. It makes no
// assertion, so goroutines other than the test's may call it.
func postStatus(ctx context.Context, url, contentType, body string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// postCallback is postStatus for the test's own goroutine: a request that
// gets no answer stops the test.
func postCallback(t *testing.T, url, contentType, body string) int {
	t.Helper()
	code, err := postStatus(t.Context(), url, contentType, body)
	require.NoError(t, err)
	return code
}

func TestCallbackHandlerRejects(t *testing.T) {
	const tok = "0123456789abcdef0123456789abcdef"
	var rec recorder
	h, err := justcall.NewCallbackHandler(rec.fn, justcall.CallbackOptions{Secret: tok})
	require.NoError(t, err)
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
	assert.Equal(t, []int{401, 401, 400, 400, 400, 400, 413}, statuses, "statuses")
	drain(t, h)
	assert.Empty(t, rec.get(), "events delivered")
}

func TestCallbackHandlerDedupeAndForms(t *testing.T) {
	var rec recorder
	h, err := justcall.NewCallbackHandler(rec.fn, justcall.CallbackOptions{AllowUnauthenticated: true})
	require.NoError(t, err)
	srv := serve(t, h)
	defer http.DefaultClient.CloseIdleConnections()
	body := `{"call_id":"call_8f3a2b1c","status":"completed","duration":"185","timestamp":"2026-03-12T14:30:00Z","agent_id":"42"}`
	var wg sync.WaitGroup
	codes := make([]int, 5)
	errs := make([]error, len(codes))
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = postStatus(t.Context(), srv.URL, "application/json", body)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "delivery %d", i+1)
	}
	assert.Equal(t, []int{200, 200, 200, 200, 200}, codes, "redeliveries are acknowledged")
	assert.Equal(t, 200, postCallback(t, srv.URL, "application/x-www-form-urlencoded", "call_id=call_8f3a2b1c&status=in-progress&duration=3&timestamp=1773325800"), "form callback")
	drain(t, h)
	evs := rec.get()
	t.Logf("callback dedupe: 5 identical deliveries -> %d event(s)", len(evs)-1)
	require.Len(t, evs, 2, "events, want 2 (one completed, one in-progress)")
	byStatus := map[telephony.CallStatus]telephony.CallEvent{}
	for _, ev := range evs {
		byStatus[ev.Status] = ev
	}
	done := byStatus[telephony.StatusCompleted]
	assert.Equal(t, []any{"call_8f3a2b1c", 185 * time.Second, "42", "2026-03-12T14:30:00Z"},
		[]any{done.CallID, done.Duration, done.AgentID, done.Time.Format(time.RFC3339)}, "completed event")
	assert.Equal(t, int64(1773325800), byStatus[telephony.StatusInProgress].Time.Unix(), "form timestamp")
}

func TestNewCallbackHandlerNeedsAToken(t *testing.T) {
	noop := func(context.Context, telephony.CallEvent) error { return nil }
	_, err := justcall.NewCallbackHandler(noop, justcall.CallbackOptions{})
	assert.Error(t, err, "no token and no AllowUnauthenticated: want an error")
	_, err = justcall.NewCallbackHandler(noop, justcall.CallbackOptions{Secret: "short"})
	assert.Error(t, err, "short token: want an error")
	_, err = justcall.NewCallbackHandler(nil, justcall.CallbackOptions{AllowUnauthenticated: true})
	assert.Error(t, err, "nil fn: want an error")
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
	require.NoError(t, err)
	srv := serve(t, h)
	defer http.DefaultClient.CloseIdleConnections()
	body := `{"call_id":"c1","status":"busy"}`
	// Redeliver until the second attempt runs: the key is forgotten only
	// once the panicking job has finished.
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < 2 && time.Now().Before(deadline) {
		assert.Equal(t, 200, postCallback(t, srv.URL, "application/json", body), "delivery")
		time.Sleep(5 * time.Millisecond)
	}
	drain(t, h)
	assert.Equal(t, int32(2), calls.Load(), "fn calls (the panicking one, then the redelivery)")
}
