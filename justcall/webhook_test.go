package justcall_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestWebhookEndToEnd(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer})
	require.NoError(t, err)

	var rec recorder
	h, err := justcall.NewWebhookHandler(rec.fn, justcall.WebhookOptions{Secret: justcalltest.APISecret})
	require.NoError(t, err)
	srv := serve(t, h)
	url := srv.URL + "/jc/webhooks"

	for _, typ := range []string{"call.initiated", "call.answered", "call.completed"} {
		code, err := sim.SendWebhook(url, typ, sim.CallObject(call.CallID))
		require.NoError(t, err, typ)
		assert.Equal(t, 200, code, typ)
	}
	code, err := sim.SendWebhook(url, "sms.received", map[string]any{"id": 1})
	require.NoError(t, err)
	assert.Equal(t, 200, code, "a non-call event is acknowledged")
	drain(t, h)

	evs := rec.get()
	require.Len(t, evs, 3, "events")
	byType := map[string]telephony.CallEvent{}
	for _, ev := range evs {
		byType[ev.Type] = ev
	}
	ev := byType["call.initiated"]
	assert.Equal(t, []any{call.CallID, telephony.StatusInitiated, telephony.DirectionOutbound, from, customer, "1001", "2024-03-21 17:08:22"},
		[]any{ev.CallID, ev.Status, ev.Direction, ev.From, ev.To, ev.AgentID, ev.Time.Format(time.DateTime)}, "call.initiated")
	assert.True(t, strings.HasPrefix(ev.DeliveryID, "01SIMREQ"), "DeliveryID %q, want the request_id", ev.DeliveryID)
	assert.Equal(t, telephony.StatusInProgress, byType["call.answered"].Status, "call.answered status")
	assert.Equal(t, telephony.StatusCompleted, byType["call.completed"].Status, "call.completed status")
}

// TestWebhookDedupe: one delivery sent 5 times concurrently (R20).
func TestWebhookDedupe(t *testing.T) {
	sim := newSim(t)
	var rec recorder
	h, err := justcall.NewWebhookHandler(rec.fn, justcall.WebhookOptions{Secret: justcalltest.APISecret})
	require.NoError(t, err)
	srv := serve(t, h)
	data := map[string]any{"id": 77, "contact_number": customer, "justcall_number": from, "call_info": map[string]any{"direction": "Incoming"}}
	at := time.Now()
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = sim.SendWebhookAs(srv.URL, "call.missed", "01HSGZRD0PHRCCHM46JRCRYMC4", at, data)
		}()
	}
	wg.Wait()
	drain(t, h)
	evs := rec.get()
	t.Logf("R20 one request_id delivered 5 times concurrently: side effects=%d, answers=%v", len(evs), codes)
	assert.Equal(t, []int{200, 200, 200, 200, 200}, codes, "answers")
	require.Len(t, evs, 1, "events")
	assert.Equal(t, []any{"77", telephony.StatusMissed, telephony.DirectionInbound, customer, from},
		[]any{evs[0].CallID, evs[0].Status, evs[0].Direction, evs[0].From, evs[0].To}, "inbound call.missed")
}

func TestWebhookRejects(t *testing.T) {
	sim := newSim(t)
	var rec recorder
	h, err := justcall.NewWebhookHandler(rec.fn, justcall.WebhookOptions{Secret: justcalltest.APISecret, WebhookURL: "https://hooks.example.com/jc"})
	require.NoError(t, err)
	srv := serve(t, h)
	defer http.DefaultClient.CloseIdleConnections()

	stale, err := sim.SendWebhookAs(srv.URL, "call.completed", "r1", time.Now().Add(-301*time.Second), map[string]any{"id": 1})
	require.NoError(t, err)
	wrongURL, err := sim.SendWebhook(srv.URL, "call.completed", map[string]any{"id": 1}) // signed for srv.URL
	require.NoError(t, err)
	unsigned := postCallback(t, srv.URL, "application/json", `{"request_id":"r","webhook_url":"https://hooks.example.com/jc","type":"call.completed","data":{"id":1}}`)
	big := postCallback(t, srv.URL, "application/json", `{"pad":"`+strings.Repeat("x", 300<<10)+`"}`)
	assert.Equal(t, []int{401, 401, 401, 413}, []int{stale, wrongURL, unsigned, big}, "stale, other endpoint's, unsigned, too large")
	drain(t, h)
	assert.Empty(t, rec.get(), "events delivered")
}

// TestWebhookAcksFastAnd503WhenFull (R19): with a slow EventFunc the
// handler still answers at once, and 503 once MaxInFlight events are held.
func TestWebhookAcksFastAnd503WhenFull(t *testing.T) {
	sim := newSim(t)
	release := make(chan struct{})
	slow := func(ctx context.Context, _ telephony.CallEvent) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}
	h, err := justcall.NewWebhookHandler(slow, justcall.WebhookOptions{Secret: justcalltest.APISecret, MaxInFlight: 4})
	require.NoError(t, err)
	srv := serve(t, h)
	var slowest time.Duration
	counts := map[int]int{}
	for i := 0; i < 10; i++ {
		start := time.Now()
		code, err := sim.SendWebhook(srv.URL, "call.completed", map[string]any{"id": i + 1})
		require.NoError(t, err, "delivery %d", i+1)
		slowest = max(slowest, time.Since(start))
		counts[code]++
	}
	close(release)
	drain(t, h)
	t.Logf("R19 10 deliveries, processor blocked, MaxInFlight 4: 200s=%d 503s=%d slowest ack=%v", counts[200], counts[503], slowest.Round(time.Millisecond))
	assert.Equal(t, map[int]int{200: 4, 503: 6}, counts, "answers")
	assert.LessOrEqual(t, slowest, 2*time.Second, "slowest acknowledgement")
}

func TestNewWebhookHandlerArgs(t *testing.T) {
	noop := func(context.Context, telephony.CallEvent) error { return nil }
	_, err := justcall.NewWebhookHandler(noop, justcall.WebhookOptions{Secret: ""})
	assert.Error(t, err, "empty secret: want an error")
	_, err = justcall.NewWebhookHandler(nil, justcall.WebhookOptions{Secret: "s"})
	assert.Error(t, err, "nil fn: want an error")
}

// TestWebhookReplayUnderNewRequestIDs: request_id is unsigned, so one
// signed delivery replayed under new request_ids must still act once; real
// events of one type, call and second that differ in status (or that are
// about another call) are all handled.
func TestWebhookReplayUnderNewRequestIDs(t *testing.T) {
	sim := newSim(t)
	var rec recorder
	h, err := justcall.NewWebhookHandler(rec.fn, justcall.WebhookOptions{Secret: justcalltest.APISecret})
	require.NoError(t, err)
	srv := serve(t, h)
	at := time.Now()
	data := func(id int, status string) map[string]any {
		return map[string]any{"id": id, "status": status, "contact_number": customer, "justcall_number": from}
	}
	var codes []int
	for _, rid := range []string{"01REPLAY0000000000000000A1", "01REPLAY0000000000000000A2", "01REPLAY0000000000000000A3"} {
		code, err := sim.SendWebhookAs(srv.URL, "call.updated", rid, at, data(88, "in-progress"))
		require.NoError(t, err, "replay %s", rid)
		codes = append(codes, code)
	}
	// Same type, same second (same signature), distinct events.
	for i, d := range []map[string]any{data(88, "completed"), data(89, "in-progress")} {
		code, err := sim.SendWebhookAs(srv.URL, "call.updated", "01DISTINCT000000000000000"+strconv.Itoa(i), at, d)
		require.NoError(t, err, "distinct event %d", i)
		codes = append(codes, code)
	}
	drain(t, h)
	evs := rec.get()
	seen := map[string]int{}
	for _, ev := range evs {
		seen[ev.CallID+" "+string(ev.Status)]++
	}
	replays := seen["88 "+string(telephony.StatusInProgress)]
	t.Logf("R20 one signed delivery replayed under 3 request_ids: side effects=%d; with 2 distinct events of the same type and second: total=%d, answers=%v", replays, len(evs), codes)
	assert.Equal(t, []int{200, 200, 200, 200, 200}, codes, "answers")
	assert.Equal(t, 1, replays, "events %v, want 1 for the replays and the 2 distinct ones", seen)
	assert.Len(t, evs, 3, "events %v, want 1 for the replays and the 2 distinct ones", seen)
	assert.Equal(t, 1, seen["88 "+string(telephony.StatusCompleted)], "events %v, want 1 for the replays and the 2 distinct ones", seen)
}
