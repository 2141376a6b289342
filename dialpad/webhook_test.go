package dialpad

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// whEventClaims is a call event shaped like Dialpad's CallProto.
func whEventClaims(callID int64, state string, ts int64) jwt.MapClaims {
	return jwt.MapClaims{
		"call_id":         callID,
		"state":           state,
		"direction":       "inbound",
		"date_started":    1712345678000,
		"date_connected":  1712345680000,
		"date_ended":      1712345740000,
		"event_timestamp": ts,
		"external_number": "+14155550100",
		"internal_number": "+14155550199",
		"duration":        60000.0,
		"target":          map[string]any{"id": 5001, "type": "user", "name": "Agent One"},
		"contact":         map[string]any{"id": "c-1", "type": "local"},
	}
}

func whSigned(t testing.TB, claims jwt.MapClaims) []byte {
	return []byte(rtSign(t, jwt.SigningMethodHS256, []byte(rtTestSecret), claims))
}

// whNew builds a *WebhookHandler drained at the end of the test.
func whNew(t testing.TB, secret string, fn telephony.EventFunc, opts WebhookOptions) *WebhookHandler {
	t.Helper()
	opts.Secret = secret
	wh, err := NewWebhookHandler(fn, opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, wh.Close(context.Background()))
	})
	return wh
}

func TestNewWebhookHandlerValidates(t *testing.T) {
	fn := func(context.Context, telephony.CallEvent) error { return nil }
	_, err := NewWebhookHandler(fn, WebhookOptions{Secret: ""})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "empty secret without AllowUnsigned")
	_, err = NewWebhookHandler(nil, WebhookOptions{Secret: rtTestSecret})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "nil fn")
	var buf bytes.Buffer
	whNew(t, "", fn, WebhookOptions{AllowUnsigned: true, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	assert.Contains(t, buf.String(), "level=WARN", "no start-up warning for AllowUnsigned")
}

// TestWebhookStates maps every call state a subscription can carry, and
// checks the rest of the CallEvent.
func TestWebhookStates(t *testing.T) {
	events := make(chan telephony.CallEvent, 64)
	h := whNew(t, rtTestSecret, func(_ context.Context, ev telephony.CallEvent) error {
		events <- ev
		return nil
	}, WebhookOptions{})
	srv := rtServe(t, h)
	want := map[string]telephony.CallStatus{
		"calling": telephony.StatusRinging, "ringing": telephony.StatusRinging, "preanswer": telephony.StatusRinging,
		"connected": telephony.StatusInProgress, "hangup": telephony.StatusCompleted, "missed": telephony.StatusMissed,
		"voicemail": telephony.StatusVoicemail, "voicemail_uploaded": telephony.StatusVoicemail,
		"hold": telephony.StatusOnHold, "parked": telephony.StatusOnHold, "queued": telephony.StatusQueued,
		"blocked": telephony.StatusFailed, "merged": telephony.StatusInProgress, "recording": telephony.StatusUnknown,
		"transcription": telephony.StatusUnknown, "csat": telephony.StatusUnknown, "HANGUP": telephony.StatusCompleted,
	}
	ts := int64(1712345700000)
	for state, status := range want {
		ts++
		code, body := rtPost(t, srv.Client(), srv.URL, "application/jwt", whSigned(t, whEventClaims(77, state, ts)))
		require.Equal(t, http.StatusOK, code, "%s: %s", state, body)
		ev := <-events
		assert.Equal(t, status, ev.Status, "state %q: status", state)
		assert.Equal(t, strings.ToLower(state), ev.Type, "state %q: type", state)
		assert.Equal(t, "dialpad", ev.Provider, "state %q: event = %+v", state, ev)
		assert.Equal(t, "77", ev.CallID, "state %q: event = %+v", state, ev)
		assert.Equal(t, telephony.DirectionInbound, ev.Direction, "state %q: event = %+v", state, ev)
		assert.Equal(t, "+14155550100", ev.From, "state %q: event = %+v", state, ev)
		assert.Equal(t, "+14155550199", ev.To, "state %q: event = %+v", state, ev)
		assert.Equal(t, "5001", ev.AgentID, "state %q: event = %+v", state, ev)
		assert.Equal(t, time.Minute, ev.Duration, "state %q: event = %+v", state, ev)
		assert.WithinDuration(t, time.UnixMilli(ts), ev.Time, 0, "state %q: event = %+v", state, ev)
		assert.NotEmpty(t, ev.DeliveryID, "state %q: event = %+v", state, ev)
	}
	// Outbound: From is our number; ids as strings; no target.
	unsigned := whNew(t, "", func(_ context.Context, ev telephony.CallEvent) error { events <- ev; return nil },
		WebhookOptions{AllowUnsigned: true})
	usrv := rtServe(t, unsigned)
	code, _ := rtPost(t, usrv.Client(), usrv.URL, "application/json",
		[]byte(`{"call_id":"88","state":"connected","direction":"outbound","external_number":"+14155550100","internal_number":"+14155550199","date_started":"1712345678000","duration":null}`))
	ev := <-events
	assert.Equal(t, http.StatusOK, code, "outbound event: status")
	assert.Equal(t, "88", ev.CallID, "outbound event %+v", ev)
	assert.Equal(t, telephony.DirectionOutbound, ev.Direction, "outbound event %+v", ev)
	assert.Equal(t, "+14155550199", ev.From, "outbound event %+v", ev)
	assert.Equal(t, "+14155550100", ev.To, "outbound event %+v", ev)
	assert.Empty(t, ev.AgentID, "outbound event %+v", ev)
	assert.Zero(t, ev.Duration, "outbound event %+v", ev)
	assert.WithinDuration(t, time.UnixMilli(1712345678000), ev.Time, 0, "outbound event %+v", ev)
}

// TestWebhookRejects: verification before parsing, body limit, methods.
func TestWebhookRejects(t *testing.T) {
	var calls atomic.Int64
	h := whNew(t, rtTestSecret, func(context.Context, telephony.CallEvent) error { calls.Add(1); return nil }, WebhookOptions{})
	srv := rtServe(t, h)
	big := append([]byte(`{"call_id":1,"state":"hangup","pad":"`), bytes.Repeat([]byte("a"), 1<<20)...)
	for _, tc := range []struct {
		name string
		body []byte
		want int
	}{
		{"wrong secret", []byte(rtSign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789-abcdefghij"), whEventClaims(1, "hangup", 1))), 401},
		{"HS512", []byte(rtSign(t, jwt.SigningMethodHS512, []byte(rtTestSecret), whEventClaims(1, "hangup", 1))), 401},
		{"alg none", []byte(rtSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, whEventClaims(1, "hangup", 1))), 401},
		{"plain JSON", []byte(`{"call_id":1,"state":"hangup"}`), 401},
		{"signed, no state", whSigned(t, jwt.MapClaims{"call_id": 1}), 400},
		{"signed, call_id not a number", whSigned(t, jwt.MapClaims{"call_id": "abc", "state": "hangup"}), 400},
		{"1 MiB", big, 413},
	} {
		code, _ := rtPost(t, srv.Client(), srv.URL, "application/jwt", tc.body)
		t.Logf("webhook %-30s status=%d", tc.name, code)
		assert.Equal(t, tc.want, code, tc.name)
	}
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.NoError(t, h.Close(t.Context()))
	s := h.Stats()
	t.Logf("R13 webhook 1 MiB body: status=413 (limit %d); EventFunc runs over all rejects=%d", webhook.MaxEventBody, calls.Load())
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "GET")
	assert.Equal(t, int64(0), calls.Load(), "EventFunc runs")
	assert.Equal(t, int64(8), s.RejectedTotal(), "stats %+v", s)
	assert.Equal(t, int64(0), s.Accepted, "stats %+v", s)
}

// TestWebhookDedupe is reliability.md R20: one event delivered 5 times
// concurrently has one side effect; another state of the same call is new.
func TestWebhookDedupe(t *testing.T) {
	var hangups, connects atomic.Int64
	h := whNew(t, rtTestSecret, func(_ context.Context, ev telephony.CallEvent) error {
		if ev.Type == "hangup" {
			hangups.Add(1)
		} else {
			connects.Add(1)
		}
		return nil
	}, WebhookOptions{})
	srv := rtServe(t, h)
	body := whSigned(t, whEventClaims(42, "hangup", 1712345740001))
	var wg sync.WaitGroup
	var non200 atomic.Int64
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, err := rtTryPost(srv.Client(), srv.URL, "application/jwt", body)
			assert.NoError(t, err, "POST")
			if code != 200 {
				non200.Add(1)
			}
		}()
	}
	wg.Wait()
	// Redelivery re-signed by Dialpad (a new JWT, same event) is a duplicate too.
	rtPost(t, srv.Client(), srv.URL, "application/jwt", whSigned(t, whEventClaims(42, "hangup", 1712345740001)))
	rtPost(t, srv.Client(), srv.URL, "application/jwt", whSigned(t, whEventClaims(42, "connected", 1712345680001)))
	require.NoError(t, h.Close(t.Context()))
	s := h.Stats()
	t.Logf("R20 one event delivered 5 times concurrently, then re-signed once: side effects=%d duplicates=%d non-200=%d; another state of the call: side effects=%d",
		hangups.Load(), s.Duplicates, non200.Load(), connects.Load())
	assert.Equal(t, int64(1), hangups.Load(), "hangup side effects; stats %+v", s)
	assert.Equal(t, int64(1), connects.Load(), "connected side effects; stats %+v", s)
	assert.Equal(t, int64(5), s.Duplicates, "stats %+v", s)
	assert.Equal(t, int64(0), non200.Load(), "non-200 answers")
}

// TestWebhookAckFastAndBusy is reliability.md R19: a processor that would
// take 10 s, 200 deliveries; acknowledgements stay fast and the overflow
// gets 503, which Dialpad retries. Once processing has room again, the
// redelivery is accepted.
func TestWebhookAckFastAndBusy(t *testing.T) {
	release := make(chan struct{})
	var processed, reported atomic.Int64
	h := whNew(t, rtTestSecret, func(ctx context.Context, _ telephony.CallEvent) error {
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		case <-ctx.Done():
		}
		processed.Add(1)
		return nil
	}, WebhookOptions{MaxInFlight: 50, OnError: func(context.Context, *telephony.HandlerError) { reported.Add(1) }})
	srv := rtServe(t, h)
	const n = 200
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = whSigned(t, whEventClaims(int64(1000+i), "hangup", 1712345740000))
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lat   []time.Duration
		codes = map[int]int{}
	)
	sem := make(chan struct{}, 20)
	for _, body := range bodies {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			start := time.Now()
			code, _, err := rtTryPost(srv.Client(), srv.URL, "application/jwt", body)
			assert.NoError(t, err, "POST")
			mu.Lock()
			lat = append(lat, time.Since(start))
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	p99 := lat[(len(lat)*99+99)/100-1]
	t.Logf("R19 200 deliveries, processor blocked, MaxInFlight 50: ack p99=%v accepted(200)=%d busy(503)=%d",
		p99.Round(time.Microsecond), codes[200], codes[503])
	// The bound is generous so a loaded machine does not flake; the figure
	// printed above is the measurement (R19 asks for <= 100ms).
	assert.Equal(t, 50, codes[200], "codes %v; want 50 x 200, 150 x 503", codes)
	assert.Equal(t, 150, codes[503], "codes %v; want 50 x 200, 150 x 503", codes)
	assert.LessOrEqual(t, p99, 5*time.Second, "ack p99")
	close(release)
	h.inbox.Wait()
	// Dialpad redelivers a 503'd event: it is processed now, not dropped as a duplicate.
	code, _ := rtPost(t, srv.Client(), srv.URL, "application/jwt", bodies[n-1])
	assert.Equal(t, http.StatusOK, code, "redelivery after 503")
	require.NoError(t, h.Close(t.Context()))
	assert.Equal(t, int64(51), processed.Load(), "processed")
	// After Close, deliveries get 503 so Dialpad retries them elsewhere/later.
	code, _ = rtPost(t, srv.Client(), srv.URL, "application/jwt", whSigned(t, whEventClaims(5, "hangup", 1)))
	assert.Equal(t, http.StatusServiceUnavailable, code, "after Close")
	s := h.Stats()
	assert.Equal(t, int64(151), s.Busy, "stats %+v", s)
	assert.Equal(t, s.Busy, reported.Load(), "each 503 reported to OnError")
}

// TestWebhookEventFuncErrors: errors and panics are logged and counted,
// never sent back to Dialpad.
func TestWebhookEventFuncErrors(t *testing.T) {
	var logs whSyncBuffer
	h := whNew(t, rtTestSecret, func(_ context.Context, ev telephony.CallEvent) error {
		if ev.CallID == "2" {
			panic("boom")
		}
		return errors.New("database unavailable")
	}, WebhookOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	srv := rtServe(t, h)
	for id := int64(1); id <= 2; id++ {
		code, body := rtPost(t, srv.Client(), srv.URL, "application/jwt", whSigned(t, whEventClaims(id, "hangup", 1)))
		assert.Equal(t, http.StatusOK, code, "call %d: %s", id, body)
	}
	require.NoError(t, h.Close(t.Context()))
	out := logs.String()
	s := h.Stats()
	assert.Equal(t, int64(2), s.Failed, "stats %+v", s)
	assert.Contains(t, out, "database unavailable", "logs")
	assert.Contains(t, out, "EventFunc panicked", "logs")
	assert.NotContains(t, out, rtTestSecret, "the secret was logged")
}

// whSyncBuffer is a bytes.Buffer safe for the handler's background logging.
type whSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *whSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *whSyncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestWebhookFromSimulator: call events as the simulated Dialpad sends
// them (signed, ids as strings in target) reach the EventFunc with the
// mapped statuses, once each.
func TestWebhookFromSimulator(t *testing.T) {
	_, sim := rtSimClient(t)
	agent := sim.SeedUsers(1)[0]
	var mu sync.Mutex
	var got []telephony.CallEvent
	h := whNew(t, rtTestSecret, func(_ context.Context, ev telephony.CallEvent) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		return nil
	}, WebhookOptions{})
	srv := rtServe(t, h)
	sim.AddWebhook(srv.URL, rtTestSecret)
	router := sim.AddRouter(dialpadtest.Router{Name: "Support", RoutingURL: "http://127.0.0.1:1/unused", OfficeID: dialpadtest.OfficeID,
		DefaultTargetID: agent.ID, DefaultTargetType: "user", Enabled: false, PhoneNumbers: []string{"+14155550197"}})
	res, err := sim.SimulateInboundCall(t.Context(), router.ID, "+14155550100", "")
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond) // the ringing event's timestamp too stays distinct
	for _, state := range []string{"connected", "hold", "connected", "hangup"} {
		require.NoError(t, sim.SetCallState(res.CallID, state), state)
		time.Sleep(2 * time.Millisecond) // distinct event timestamps, as Dialpad's are
	}
	sim.FlushEvents()
	require.NoError(t, h.Close(t.Context()))
	// The EventFunc runs in the background, so events may reach it out of
	// order (as the README says): their times carry the order.
	slices.SortStableFunc(got, func(a, b telephony.CallEvent) int { return a.Time.Compare(b.Time) })
	var statuses []telephony.CallStatus
	for _, ev := range got {
		statuses = append(statuses, ev.Status)
		assert.Equal(t, strconv.FormatInt(res.CallID, 10), ev.CallID, "event %+v", ev)
		assert.Equal(t, strconv.FormatInt(agent.ID, 10), ev.AgentID, "event %+v", ev)
		assert.Equal(t, telephony.DirectionInbound, ev.Direction, "event %+v", ev)
		assert.Equal(t, "+14155550100", ev.From, "event %+v", ev)
		assert.Equal(t, "+14155550197", ev.To, "event %+v", ev)
	}
	var codes []int
	for _, d := range sim.Deliveries() {
		codes = append(codes, d.Status)
	}
	t.Logf("simulator call events -> EventFunc: statuses %v; delivery statuses %v", statuses, codes)
	want := []telephony.CallStatus{telephony.StatusRinging, telephony.StatusInProgress, telephony.StatusOnHold,
		telephony.StatusInProgress, telephony.StatusCompleted}
	assert.Equal(t, want, statuses, "statuses")
	assert.Equal(t, []int{200, 200, 200, 200, 200}, codes, "delivery statuses")
	require.NotEmpty(t, got, "events")
	last := got[len(got)-1]
	assert.Positive(t, last.Duration, "hangup event lacks duration: %+v", last)
	assert.False(t, last.Time.IsZero(), "hangup event lacks time: %+v", last)
}

// A duration whose nanoseconds overflow int64 is unknown (0), never
// negative; one just below the bound is kept.
func TestWebhookHugeDuration(t *testing.T) {
	for _, tc := range []struct {
		ms   string
		want time.Duration
	}{
		{"60000", time.Minute},
		{"9223372036853", 9223372036853 * time.Millisecond},
		{"9223372036855", 0},
		{"10000000000000", 0},
		{"9000000000000000", 0},
		{"1e300", 0},
		{"-5", 0},
	} {
		ev, _, status, err := whDecode(nil, []byte(`{"call_id":1,"state":"hangup","duration":`+tc.ms+`}`))
		require.NoError(t, err, tc.ms)
		require.Equal(t, 0, status, tc.ms)
		// float64 milliseconds are exact to well under 1ms at this scale.
		d := ev.Duration - tc.want
		assert.GreaterOrEqual(t, d, -time.Millisecond, "duration %s ms: got %v, want %v", tc.ms, ev.Duration, tc.want)
		assert.LessOrEqual(t, d, time.Millisecond, "duration %s ms: got %v, want %v", tc.ms, ev.Duration, tc.want)
		if tc.want == 0 {
			assert.Zero(t, ev.Duration, "duration %s ms", tc.ms)
		}
	}
}
