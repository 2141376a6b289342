package main

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
	if res.ErrorsAtDisable <= dialpadtest.MaxRouterErrors || res.CallsUntilDisabled != dialpadtest.MaxRouterErrors+1 {
		t.Errorf("disabled after %d calls with %d errors, want %d errors (> %d)", res.CallsUntilDisabled,
			res.ErrorsAtDisable, dialpadtest.MaxRouterErrors+1, dialpadtest.MaxRouterErrors)
	}
	if !res.DisabledListed || !res.SkippedWhileDisabled {
		t.Errorf("while disabled: API enabled=false %v, routing_url skipped %v", res.DisabledListed, res.SkippedWhileDisabled)
	}
	if !res.EnabledAfter || res.ErrorCountAfter != 0 {
		t.Errorf("after enable: enabled=%v, error count %d, want true and 0", res.EnabledAfter, res.ErrorCountAfter)
	}
	if r := res.RoutedAfter; r.Fallback || r.TargetType != "user" || r.Status != 200 {
		t.Errorf("the call after re-enabling: %+v", r)
	}
	if len(res.Listed) != 1 || res.Listed[0].ID != res.RouterID || !res.Listed[0].Enabled {
		t.Errorf("list = %+v", res.Listed)
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
	if err != nil {
		t.Fatal(err)
	}
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
		if err := run("create", "-name", name, "-routing-url", "https://example.com/route", "-office", office,
			"-default-target-id", "9000", "-secret", demoSecret); err != nil {
			t.Fatal(err)
		}
	}
	routers := sim.Routers()
	if len(routers) != 2 || !routers[0].Enabled || routers[0].Secret != demoSecret || routers[0].DefaultTargetType != "callcenter" {
		t.Fatalf("routers = %+v", routers)
	}
	sales, support := strconv.FormatInt(routers[0].ID, 10), strconv.FormatInt(routers[1].ID, 10)

	if err := run("assign-number", "-id", sales, "-number", "+14155550123"); err != nil {
		t.Fatal(err)
	}
	if r, _ := sim.Router(routers[0].ID); len(r.PhoneNumbers) != 1 || r.PhoneNumbers[0] != "+14155550123" {
		t.Fatalf("numbers = %v", r.PhoneNumbers)
	}

	if err := run("disable", "-id", sales); err != nil {
		t.Fatal(err)
	}
	if r, _ := sim.Router(routers[0].ID); r.Enabled {
		t.Fatal("disable left the router enabled")
	}
	// One update per router per 5 minutes: refused before sending.
	before := sim.Count("PATCH", "/api/v2/callrouters/")
	err = run("enable", "-id", sales)
	if !errors.Is(err, telephony.ErrRateLimited) {
		t.Fatalf("second update within 5 minutes: %v", err)
	}
	t.Logf("second update refused: %v", err)
	if n := sim.Count("PATCH", "/api/v2/callrouters/"); n != before {
		t.Fatalf("the refused update was sent (%d PATCH, want %d)", n, before)
	}

	// enable resets the error count of a router Dialpad disabled.
	// Its routing_url refuses connections (loopback, port 1).
	sim.AddRouter(dialpadtest.Router{ID: 4242, Name: "Broken", RoutingURL: "http://127.0.0.1:1/route", Enabled: true,
		OfficeID: dialpadtest.OfficeID, DefaultTargetID: 9000, DefaultTargetType: "callcenter", PhoneNumbers: []string{"+14155550999"}})
	for range dialpadtest.MaxRouterErrors + 1 {
		if _, err := sim.SimulateInboundCall(ctx, 4242, "+12125550001", ""); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := sim.Router(4242); r.Enabled || sim.RouterErrorCount(4242) != dialpadtest.MaxRouterErrors+1 {
		t.Fatalf("broken router: enabled=%v errors=%d", r.Enabled, sim.RouterErrorCount(4242))
	}
	if err := run("enable", "-id", "4242"); err != nil {
		t.Fatal(err)
	}
	if r, _ := sim.Router(4242); !r.Enabled || sim.RouterErrorCount(4242) != 0 {
		t.Fatalf("after enable: enabled=%v errors=%d", r.Enabled, sim.RouterErrorCount(4242))
	}

	if err := run("delete", "-id", support); err != nil {
		t.Fatal(err)
	}
	if err := run("list"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 router(s)") || strings.Contains(out.String(), "Support") {
		t.Fatalf("list after delete:\n%s", out.String())
	}

	if err := run("enable"); err == nil || !strings.Contains(err.Error(), "-id is required") {
		t.Fatalf("enable without -id: %v", err)
	}
	if err := run("rename"); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
	if err := run("create", "-name", "x"); !errors.Is(err, telephony.ErrInvalidRequest) {
		t.Fatalf("create without the required fields: %v", err)
	}
}
