package justcall_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestWebhookEndToEnd(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer})
	must(t, err)

	var rec recorder
	h, err := justcall.NewWebhookHandler(justcalltest.APISecret, rec.fn, justcall.WebhookOptions{})
	must(t, err)
	srv := serve(t, h)
	url := srv.URL + "/jc/webhooks"

	for _, typ := range []string{"call.initiated", "call.answered", "call.completed"} {
		code, err := sim.SendWebhook(url, typ, sim.CallObject(call.CallID))
		must(t, err)
		eq(t, code, 200, typ)
	}
	code, err := sim.SendWebhook(url, "sms.received", map[string]any{"id": 1})
	must(t, err)
	eq(t, code, 200, "a non-call event is acknowledged")
	drain(t, h)

	evs := rec.get()
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	byType := map[string]telephony.CallEvent{}
	for _, ev := range evs {
		byType[ev.Type] = ev
	}
	ev := byType["call.initiated"]
	eq(t, []any{ev.CallID, ev.Status, ev.Direction, ev.From, ev.To, ev.AgentID, ev.Time.Format(time.DateTime)},
		[]any{call.CallID, telephony.StatusInitiated, telephony.DirectionOutbound, from, customer, "1001", "2024-03-21 17:08:22"}, "call.initiated")
	if !strings.HasPrefix(ev.DeliveryID, "01SIMREQ") {
		t.Errorf("DeliveryID %q, want the request_id", ev.DeliveryID)
	}
	eq(t, byType["call.answered"].Status, telephony.StatusInProgress, "call.answered status")
	eq(t, byType["call.completed"].Status, telephony.StatusCompleted, "call.completed status")
}

// TestWebhookDedupe: one delivery sent 5 times concurrently (R20).
func TestWebhookDedupe(t *testing.T) {
	sim := newSim(t)
	var rec recorder
	h, err := justcall.NewWebhookHandler(justcalltest.APISecret, rec.fn, justcall.WebhookOptions{})
	must(t, err)
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
	eq(t, codes, []int{200, 200, 200, 200, 200}, "answers")
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	eq(t, []any{evs[0].CallID, evs[0].Status, evs[0].Direction, evs[0].From, evs[0].To},
		[]any{"77", telephony.StatusMissed, telephony.DirectionInbound, customer, from}, "inbound call.missed")
}

func TestWebhookRejects(t *testing.T) {
	sim := newSim(t)
	var rec recorder
	h, err := justcall.NewWebhookHandler(justcalltest.APISecret, rec.fn, justcall.WebhookOptions{WebhookURL: "https://hooks.example.com/jc"})
	must(t, err)
	srv := serve(t, h)
	defer http.DefaultClient.CloseIdleConnections()

	stale, err := sim.SendWebhookAs(srv.URL, "call.completed", "r1", time.Now().Add(-301*time.Second), map[string]any{"id": 1})
	must(t, err)
	wrongURL, err := sim.SendWebhook(srv.URL, "call.completed", map[string]any{"id": 1}) // signed for srv.URL
	must(t, err)
	unsigned := postCallback(t, srv.URL, "application/json", `{"request_id":"r","webhook_url":"https://hooks.example.com/jc","type":"call.completed","data":{"id":1}}`)
	big := postCallback(t, srv.URL, "application/json", `{"pad":"`+strings.Repeat("x", 300<<10)+`"}`)
	eq(t, []int{stale, wrongURL, unsigned, big}, []int{401, 401, 401, 413}, "stale, other endpoint's, unsigned, too large")
	drain(t, h)
	eq(t, len(rec.get()), 0, "events delivered")
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
	h, err := justcall.NewWebhookHandler(justcalltest.APISecret, slow, justcall.WebhookOptions{MaxInFlight: 4})
	must(t, err)
	srv := serve(t, h)
	var slowest time.Duration
	counts := map[int]int{}
	for i := 0; i < 10; i++ {
		start := time.Now()
		code, err := sim.SendWebhook(srv.URL, "call.completed", map[string]any{"id": i + 1})
		must(t, err)
		slowest = max(slowest, time.Since(start))
		counts[code]++
	}
	close(release)
	drain(t, h)
	t.Logf("R19 10 deliveries, processor blocked, MaxInFlight 4: 200s=%d 503s=%d slowest ack=%v", counts[200], counts[503], slowest.Round(time.Millisecond))
	eq(t, counts, map[int]int{200: 4, 503: 6}, "answers")
	if slowest > 2*time.Second {
		t.Errorf("slowest acknowledgement %v", slowest)
	}
}

func TestNewWebhookHandlerArgs(t *testing.T) {
	noop := func(context.Context, telephony.CallEvent) error { return nil }
	if _, err := justcall.NewWebhookHandler("", noop, justcall.WebhookOptions{}); err == nil {
		t.Error("empty secret: want an error")
	}
	if _, err := justcall.NewWebhookHandler("s", nil, justcall.WebhookOptions{}); err == nil {
		t.Error("nil fn: want an error")
	}
}

// TestWebhookReplayUnderNewRequestIDs: request_id is unsigned, so one
// signed delivery replayed under new request_ids must still act once; real
// events of one type, call and second that differ in status (or that are
// about another call) are all handled.
func TestWebhookReplayUnderNewRequestIDs(t *testing.T) {
	sim := newSim(t)
	var rec recorder
	h, err := justcall.NewWebhookHandler(justcalltest.APISecret, rec.fn, justcall.WebhookOptions{})
	must(t, err)
	srv := serve(t, h)
	at := time.Now()
	data := func(id int, status string) map[string]any {
		return map[string]any{"id": id, "status": status, "contact_number": customer, "justcall_number": from}
	}
	var codes []int
	for _, rid := range []string{"01REPLAY0000000000000000A1", "01REPLAY0000000000000000A2", "01REPLAY0000000000000000A3"} {
		code, err := sim.SendWebhookAs(srv.URL, "call.updated", rid, at, data(88, "in-progress"))
		must(t, err)
		codes = append(codes, code)
	}
	// Same type, same second (same signature), distinct events.
	for i, d := range []map[string]any{data(88, "completed"), data(89, "in-progress")} {
		code, err := sim.SendWebhookAs(srv.URL, "call.updated", "01DISTINCT000000000000000"+strconv.Itoa(i), at, d)
		must(t, err)
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
	eq(t, codes, []int{200, 200, 200, 200, 200}, "answers")
	if replays != 1 || len(evs) != 3 || seen["88 "+string(telephony.StatusCompleted)] != 1 {
		t.Fatalf("events %v, want 1 for the replays and the 2 distinct ones", seen)
	}
}
