package dialpad_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
)

// 1,000 inbound calls through the simulated Dialpad to a RoutingHandler
// whose RouteFunc fails 10% and hangs 5% of the time. Every answer reaches
// Dialpad in time and valid, so the router's error count stays 0 and the
// router stays enabled.
func TestSimulatorThousandCallsRouterStaysEnabled(t *testing.T) {
	testenv.Long(t)
	c, srv := newTestClient(t)
	users := srv.SeedUsers(5)

	var n atomic.Int64
	route := func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
		i := n.Add(1)
		switch {
		case i%20 == 0: // 5%: hang until the handler's budget ends
			<-ctx.Done()
			return telephony.Target{}, ctx.Err()
		case i%10 == 1: // 10%: fail
			return telephony.Target{}, errors.New("CRM unavailable")
		case i%10 == 3: // by email, resolved through the cached directory
			return telephony.UserByEmail("agent2@example.com"), nil
		}
		return telephony.UserTarget(itoa(users[i%5].ID)), nil
	}
	h, err := dialpad.NewRoutingHandler(route, dialpad.RoutingOptions{
		Secret:   testSecret,
		Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: "9000"},
		Budget:   200 * time.Millisecond,
		Client:   c,
	})
	ok(t, err)
	hs := httptest.NewServer(h)
	defer hs.Close()
	defer func() { ok(t, h.Close(context.Background())) }()

	router, err := c.CallRouters.Create(t.Context(), dialpad.CreateCallRouterRequest{
		Name: "main line", RoutingURL: hs.URL, OfficeID: dialpadtest.OfficeID,
		DefaultTargetID: 9000, DefaultTargetType: dialpad.TargetTypeCallCenter, Secret: testSecret,
	})
	ok(t, err)

	const calls, batch = 1000, 25
	results := make([]dialpadtest.InboundResult, calls)
	start := time.Now()
	for b := 0; b < calls; b += batch {
		var wg sync.WaitGroup
		for i := b; i < b+batch; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := srv.SimulateInboundCall(t.Context(), router.ID, "+16505550123", "")
				assert.NoError(t, err, "call %d", i)
				results[i] = res
			}()
		}
		wg.Wait()
	}
	elapsed := time.Since(start)

	var routed, fallbacks, routingErrors int
	lat := make([]time.Duration, 0, calls)
	for _, r := range results {
		if r.Err != nil {
			routingErrors++
		}
		if r.Fallback {
			fallbacks++
		} else {
			routed++
		}
		lat = append(lat, r.Latency)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	got, found := srv.Router(router.ID)
	require.True(t, found, "router gone")
	st := h.Stats()
	t.Logf("1000 calls (RouteFunc fails 10%%, hangs 5%%, budget 200ms) in %v: router error count=%d, enabled=%v; "+
		"routed=%d, default-target fallbacks at Dialpad=%d, handler fallbacks=%v, routing latency p50=%v p99=%v max=%v, handler ErrorsLastHour=%d",
		elapsed.Round(time.Millisecond), srv.RouterErrorCount(router.ID), got.Enabled, routed, fallbacks, st.Fallbacks,
		lat[calls/2].Round(time.Millisecond), lat[calls*99/100].Round(time.Millisecond), lat[calls-1].Round(time.Millisecond), st.ErrorsLastHour)

	eq(t, "router error count", srv.RouterErrorCount(router.ID), 0)
	eq(t, "router enabled", got.Enabled, true)
	eq(t, "routing errors seen by Dialpad", routingErrors, 0)
	eq(t, "calls routed by the handler's answer", routed, calls)
	fb := st.FallbackTotal()
	assert.GreaterOrEqual(t, fb, int64(140), "handler fallbacks = %d; want 150 (10%% errors + 5%% hangs)", fb)
	assert.LessOrEqual(t, fb, int64(160), "handler fallbacks = %d; want 150 (10%% errors + 5%% hangs)", fb)
	// Concurrent email lookups share one request and the answer is cached; a
	// lookup cut short by the budget may be asked again.
	lookups := srv.Count("GET", "/api/v2/users")
	assert.GreaterOrEqual(t, lookups, 1, "email lookups = %d; want 1 (a few under heavy load)", lookups)
	assert.LessOrEqual(t, lookups, 5, "email lookups = %d; want 1 (a few under heavy load)", lookups)
	// Where the calls went: the fallback call center for the 15%, users otherwise.
	cc := 0
	for _, r := range results {
		if r.TargetType == "callcenter" && r.TargetID == 9000 {
			cc++
		}
	}
	eq(t, "calls answered with the fallback call center", int64(cc), st.FallbackTotal())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Call events from the simulator reach a WebhookHandler, signed, in order,
// once each.
func TestSimulatorCallEventsToWebhookHandler(t *testing.T) {
	for _, stringIDs := range []bool{false, true} {
		c, srv := newTestClient(t)
		srv.SetStringIDs(stringIDs)
		agent := srv.SeedUsers(1)[0]
		var mu sync.Mutex
		var got []telephony.CallEvent
		h, err := dialpad.NewWebhookHandler(func(ctx context.Context, ev telephony.CallEvent) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, ev)
			return nil
		}, dialpad.WebhookOptions{Secret: testSecret})
		ok(t, err)
		hs := httptest.NewServer(h)
		srv.AddWebhook(hs.URL, testSecret)

		call, err := c.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: agent.ID})
		ok(t, err)
		ok(t, srv.SetCallState(call.CallID, "connected"))
		time.Sleep(5 * time.Millisecond) // a measurable duration
		ok(t, srv.SetCallState(call.CallID, "hangup"))
		srv.FlushEvents()
		hs.Close()
		ok(t, h.Close(t.Context()))

		mu.Lock()
		var statuses []telephony.CallStatus
		for _, ev := range got {
			statuses = append(statuses, ev.Status)
			assert.Equal(t, itoa(call.CallID), ev.CallID, "event = %+v", ev)
			assert.Equal(t, itoa(agent.ID), ev.AgentID, "event = %+v", ev)
			assert.Equal(t, telephony.DirectionOutbound, ev.Direction, "event = %+v", ev)
			assert.Equal(t, "+14155550100", ev.To, "event = %+v", ev)
		}
		mu.Unlock()
		sort.Slice(statuses, func(i, j int) bool { return statuses[i] < statuses[j] }) // the handler runs events concurrently
		want := []telephony.CallStatus{telephony.StatusCompleted, telephony.StatusInProgress, telephony.StatusRinging}
		assert.Equal(t, want, statuses, "stringIDs=%v: statuses", stringIDs)
		for _, d := range srv.Deliveries() {
			assert.Equal(t, 200, d.Status, "stringIDs=%v: delivery = %+v", stringIDs, d)
			assert.True(t, d.Signed, "stringIDs=%v: delivery = %+v; want signed", stringIDs, d)
		}
	}
}
