package aircall_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/telephony"
)

// TestRoutingNumbersBecomeE164: Aircall writes raw_digits with spaces
// ("+44 20 7183 8750"); the RouteFunc sees E.164, so a caller-prefix rule
// matches it.
func TestRoutingNumbersBecomeE164(t *testing.T) {
	sim := newSim(t)
	users := sim.SeedUsers(2)
	var mu sync.Mutex
	var seen []telephony.InboundCall
	rules := telephony.Route(telephony.UserTarget(strconv.FormatInt(users[0].ID, 10)),
		telephony.ByCallerPrefix(map[string]telephony.Target{"+44": telephony.UserTarget(strconv.FormatInt(users[1].ID, 10))}))
	route := func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
		mu.Lock()
		seen = append(seen, call)
		mu.Unlock()
		return rules(ctx, call)
	}
	h, _ := routingSetup(t, sim, route, aircall.RoutingOptions{})
	sim.SimulateInboundCall("+44 20 7183 8750", "+1 415 500 0001")
	sim.SimulateInboundCall("44 20 7183 8751", "+1 415 500 0001")
	drain(t, h)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 2)
	assert.Equal(t, []string{"+442071838750", "+14155000001"}, []string{seen[0].From, seen[0].To}, "InboundCall From, To")
	assert.Equal(t, "+442071838751", seen[1].From, "a number without its '+'")
	transfers := sim.Transfers()
	require.Len(t, transfers, 2)
	for _, tr := range transfers {
		assert.Equal(t, users[1].ID, tr.UserID, "the +44 rule routed call %d", tr.CallID)
	}
}

// TestWebhookNumbersBecomeE164: CallEvent.From and To are E.164 whatever
// Aircall's formatting.
func TestWebhookNumbersBecomeE164(t *testing.T) {
	sim := newSim(t)
	var mu sync.Mutex
	var evs []telephony.CallEvent
	h, err := aircall.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error {
		mu.Lock()
		defer mu.Unlock()
		evs = append(evs, ev)
		return nil
	}, aircall.WebhookOptions{Secret: hookToken})
	require.NoError(t, err)
	wh := h
	srv := httptest.NewServer(wh)
	t.Cleanup(srv.Close)
	sim.SetWebhook(srv.URL, hookToken)

	sim.SimulateInboundCall("+33 6 12 34 56 78", "+1 (415) 500-0001")
	require.NoError(t, wh.Close(t.Context()))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, evs, 1)
	assert.Equal(t, []string{"+33612345678", "+14155000001"}, []string{evs[0].From, evs[0].To})
}
