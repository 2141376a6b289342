package aircall_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/telephony"
)

// A RouteFunc that ignores its context is still bounded by RouteTimeout:
// each call goes to the fallback in time and frees its slot, so 150 such
// calls with MaxInFlight 100 are all routed instead of wedging the handler.
func TestRouteTimeoutBoundsAStubbornRouteFunc(t *testing.T) {
	sim := newSim(t)
	team := sim.AddTeam("Fallback")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // registered first: runs after the handler is closed
	stubborn := func(context.Context, telephony.InboundCall) (telephony.Target, error) {
		<-release // ignores its context
		return telephony.Target{}, nil
	}
	h, _ := routingSetup(t, sim, stubborn, aircall.RoutingOptions{
		MaxInFlight: 100, RouteTimeout: 50 * time.Millisecond,
		Fallback: telephony.Target{Type: telephony.TargetTeam, ID: strconv.FormatInt(team.ID, 10)},
	})
	const calls = 150
	start := time.Now()
	for i := range calls {
		id := sim.CreateInboundCall("+33612345678", "+14155550100")
		status, err := sim.DeliverEvent("call.created", id)
		require.NoError(t, err)
		require.Equal(t, 200, status, "call %d refused", i)
		if i%50 == 49 {
			waitFor(t, func() bool { return h.Stats().Routed == int64(i+1) })
		}
	}
	waitFor(t, func() bool { return h.Stats().Routed == calls })
	t.Logf("stubborn RouteFunc, RouteTimeout 50ms: %d calls routed to the fallback in %v, stats %+v",
		calls, time.Since(start).Round(time.Millisecond), h.Stats())
	for _, tr := range sim.Transfers() {
		assert.Equal(t, team.ID, tr.TeamID, "transferred to the fallback team")
	}
	assert.Len(t, sim.Transfers(), calls, "every call transferred")
}
