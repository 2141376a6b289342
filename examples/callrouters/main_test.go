package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The demonstration ends as Dialpad documents: disabled after more than 10
// routing errors in an hour, re-enabled with the error count back to 0, and
// the next call routed by the (fixed) endpoint.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	res, err := demo(t.Context(), &out)
	t.Logf("\n%s", out.String())
	require.NoError(t, err)
	assert.Greater(t, res.ErrorsAtDisable, dialpadtest.MaxRouterErrors, "disabled after %d calls with %d errors, want %d errors (> %d)", res.CallsUntilDisabled,
		res.ErrorsAtDisable, dialpadtest.MaxRouterErrors+1, dialpadtest.MaxRouterErrors)
	assert.Equal(t, dialpadtest.MaxRouterErrors+1, res.CallsUntilDisabled, "disabled after %d calls with %d errors, want %d errors (> %d)", res.CallsUntilDisabled,
		res.ErrorsAtDisable, dialpadtest.MaxRouterErrors+1, dialpadtest.MaxRouterErrors)
	assert.True(t, res.DisabledListed, "while disabled: API enabled=false %v, routing_url skipped %v", res.DisabledListed, res.SkippedWhileDisabled)
	assert.True(t, res.SkippedWhileDisabled, "while disabled: API enabled=false %v, routing_url skipped %v", res.DisabledListed, res.SkippedWhileDisabled)
	assert.True(t, res.EnabledAfter, "after enable: enabled=%v, error count %d, want true and 0", res.EnabledAfter, res.ErrorCountAfter)
	assert.Equal(t, 0, res.ErrorCountAfter, "after enable: enabled=%v, error count %d, want true and 0", res.EnabledAfter, res.ErrorCountAfter)
	r := res.RoutedAfter
	assert.False(t, r.Fallback, "the call after re-enabling: %+v", r)
	assert.Equal(t, "user", r.TargetType, "the call after re-enabling: %+v", r)
	assert.Equal(t, 200, r.Status, "the call after re-enabling: %+v", r)
	if assert.Len(t, res.Listed, 1, "list = %+v", res.Listed) {
		assert.Equal(t, res.RouterID, res.Listed[0].ID, "list = %+v", res.Listed)
		assert.True(t, res.Listed[0].Enabled, "list = %+v", res.Listed)
	}
	t.Logf("disabled after %d calls (%d errors); after enable: error count %d, next call -> %s %d",
		res.CallsUntilDisabled, res.ErrorsAtDisable, res.ErrorCountAfter, res.RoutedAfter.TargetType, res.RoutedAfter.TargetID)
}

// The subcommands, as an operator types them, against the simulator.
func TestCommands(t *testing.T) {
	sim := dialpadtest.NewServer()
	defer sim.Close()
	dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(sim.URL()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	var out bytes.Buffer
	tl := &tool{dp: dp, out: &out}
	ctx := t.Context()
	run := func(args ...string) error {
		out.Reset()
		err := tl.run(ctx, args)
		t.Logf("$ callrouters %s\n%s", strings.Join(args, " "), out.String())
		return err
	}
	office := strconv.FormatInt(dialpadtest.OfficeID, 10)
	for _, name := range []string{"Sales", "Support"} {
		require.NoError(t, run("create", "-name", name, "-routing-url", "https://example.com/route", "-office", office,
			"-default-target-id", "9000", "-secret", demoSecret))
	}
	routers := sim.Routers()
	require.Len(t, routers, 2, "routers = %+v", routers)
	assert.True(t, routers[0].Enabled, "routers = %+v", routers)
	assert.Equal(t, demoSecret, routers[0].Secret, "routers = %+v", routers)
	assert.Equal(t, "callcenter", routers[0].DefaultTargetType, "routers = %+v", routers)
	sales, support := strconv.FormatInt(routers[0].ID, 10), strconv.FormatInt(routers[1].ID, 10)

	require.NoError(t, run("assign-number", "-id", sales, "-number", "+14155550123"))
	r, _ := sim.Router(routers[0].ID)
	assert.Equal(t, []string{"+14155550123"}, r.PhoneNumbers, "numbers = %v", r.PhoneNumbers)

	require.NoError(t, run("disable", "-id", sales))
	r, _ = sim.Router(routers[0].ID)
	require.False(t, r.Enabled, "disable left the router enabled")
	// One update per router per 5 minutes: refused before sending.
	before := sim.Count("PATCH", "/api/v2/callrouters/")
	err = run("enable", "-id", sales)
	assert.ErrorIs(t, err, telephony.ErrRateLimited, "second update within 5 minutes: %v", err)
	t.Logf("second update refused: %v", err)
	n := sim.Count("PATCH", "/api/v2/callrouters/")
	assert.Equal(t, before, n, "the refused update was sent (%d PATCH, want %d)", n, before)

	// enable resets the error count of a router Dialpad disabled.
	// Its routing_url refuses connections (loopback, port 1).
	sim.AddRouter(dialpadtest.Router{ID: 4242, Name: "Broken", RoutingURL: "http://127.0.0.1:1/route", Enabled: true,
		OfficeID: dialpadtest.OfficeID, DefaultTargetID: 9000, DefaultTargetType: "callcenter", PhoneNumbers: []string{"+14155550999"}})
	for range dialpadtest.MaxRouterErrors + 1 {
		_, err := sim.SimulateInboundCall(ctx, 4242, "+12125550001", "")
		require.NoError(t, err)
	}
	r, _ = sim.Router(4242)
	require.False(t, r.Enabled, "broken router: enabled=%v errors=%d", r.Enabled, sim.RouterErrorCount(4242))
	require.Equal(t, dialpadtest.MaxRouterErrors+1, sim.RouterErrorCount(4242), "broken router: enabled=%v errors=%d", r.Enabled, sim.RouterErrorCount(4242))
	require.NoError(t, run("enable", "-id", "4242"))
	r, _ = sim.Router(4242)
	assert.True(t, r.Enabled, "after enable: enabled=%v errors=%d", r.Enabled, sim.RouterErrorCount(4242))
	assert.Equal(t, 0, sim.RouterErrorCount(4242), "after enable: enabled=%v errors=%d", r.Enabled, sim.RouterErrorCount(4242))

	require.NoError(t, run("delete", "-id", support))
	require.NoError(t, run("list"))
	assert.Contains(t, out.String(), "2 router(s)", "list after delete:\n%s", out.String())
	assert.NotContains(t, out.String(), "Support", "list after delete:\n%s", out.String())

	assert.ErrorContains(t, run("enable"), "-id is required", "enable without -id")
	assert.ErrorContains(t, run("rename"), "unknown command", "unknown command")
	assert.ErrorIs(t, run("create", "-name", "x"), telephony.ErrInvalidRequest, "create without the required fields")
}
