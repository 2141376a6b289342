package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Demonstration settings.
const (
	demoSecret     = "demo-router-secret-0123456789abcdef" // >= 32 characters
	demoNumber     = "+14155550100"
	fallbackCenter = 9000 // a call center: the router's default target
)

// demoResult is what the demonstration observed, for its test.
type demoResult struct {
	RouterID int64
	// CallsUntilDisabled is how many failing calls it took Dialpad to
	// disable the router; ErrorsAtDisable its error count then.
	CallsUntilDisabled, ErrorsAtDisable int
	// DisabledListed: Get showed enabled=false after that. SkippedWhile:
	// the next call went to the default target without asking the URL.
	DisabledListed, SkippedWhileDisabled bool
	// After Reenable: enabled, the error count, and where a call went.
	EnabledAfter    bool
	ErrorCountAfter int
	RoutedAfter     dialpadtest.InboundResult
	Listed          []dialpad.CallRouter
}

// demo runs the operator's story against the Dialpad simulator, with the
// same commands the tool offers, and prints what it does.
func demo(ctx context.Context, w io.Writer) (*demoResult, error) {
	sim := dialpadtest.NewServer()
	defer sim.Close()
	agent := sim.AddUser(dialpadtest.User{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"})
	dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(sim.URL()),
		telephony.WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	t := &tool{dp: dp, out: w}
	res := &demoResult{}

	// The customer's routing endpoint: broken at first (500 for every
	// call), later fixed to send every call to Ann.
	var broken atomic.Bool
	broken.Store(true)
	rh, err := dialpad.NewRoutingHandler(func(context.Context, telephony.InboundCall) (telephony.Target, error) {
		return telephony.UserTarget(strconv.FormatInt(agent.ID, 10)), nil
	}, dialpad.RoutingOptions{Secret: demoSecret,
		Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: strconv.Itoa(fallbackCenter)}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /route", func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			http.Error(w, `{"error":"routing service down"}`, http.StatusInternalServerError)
			return
		}
		rh.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := telephony.NewServer(l.Addr().String(), mux)
	go func() { _ = srv.Serve(l) }()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		_ = rh.Close(shutdown)
	}()
	routingURL := "http://" + l.Addr().String() + "/route"

	step := func(format string, args ...any) { fmt.Fprintf(w, "\n== "+format+"\n", args...) }
	step("create a call router (its routing endpoint is broken: it answers 500)")
	r, err := t.create(ctx, dialpad.CreateCallRouterRequest{Name: "Support line", RoutingURL: routingURL,
		OfficeID: dialpadtest.OfficeID, DefaultTargetID: fallbackCenter, DefaultTargetType: dialpad.TargetTypeCallCenter,
		Secret: demoSecret})
	if err != nil {
		return nil, err
	}
	res.RouterID = r.ID

	step("assign-number")
	if _, err := t.assignNumber(ctx, r.ID, dialpad.AssignNumberRequest{Number: demoNumber}); err != nil {
		return nil, err
	}

	step("customers call %s; every routing request fails", demoNumber)
	for i := 1; i <= 2*dialpadtest.MaxRouterErrors; i++ {
		from := fmt.Sprintf("+1212555%04d", i)
		in, err := sim.SimulateInboundCall(ctx, r.ID, from, demoNumber)
		if err != nil {
			return nil, err
		}
		count := sim.RouterErrorCount(r.ID)
		fmt.Fprintf(w, "call %2d from %s: routing_url answered %d -> default target %s %d (routing errors this hour: %d)\n",
			i, from, in.Status, in.TargetType, in.TargetID, count)
		if in.Disabled {
			res.CallsUntilDisabled, res.ErrorsAtDisable = i, count
			fmt.Fprintf(w, "Dialpad disabled the router: more than %d routing errors in an hour\n", dialpadtest.MaxRouterErrors)
			break
		}
	}
	if res.CallsUntilDisabled == 0 {
		return nil, errors.New("the router was never disabled")
	}

	step("the router, as the API shows it now")
	got, err := dp.CallRouters.Get(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	res.DisabledListed = !got.Enabled
	fmt.Fprintf(w, "router %d enabled=%v\n", got.ID, got.Enabled)
	in, err := sim.SimulateInboundCall(ctx, r.ID, "+12125559999", demoNumber)
	if err != nil {
		return nil, err
	}
	res.SkippedWhileDisabled = in.Skipped
	fmt.Fprintf(w, "a call while disabled: routing_url asked=%v -> %s %d\n", !in.Skipped, in.TargetType, in.TargetID)

	step("fix the routing endpoint, then enable (enabled=true, reset_error_count=true)")
	broken.Store(false)
	if r, err = t.enable(ctx, r.ID); err != nil {
		return nil, err
	}
	res.EnabledAfter = r.Enabled
	res.ErrorCountAfter = sim.RouterErrorCount(r.ID)
	fmt.Fprintf(w, "routing errors this hour: %d (without the reset, the next error would disable it again)\n", res.ErrorCountAfter)
	if res.RoutedAfter, err = sim.SimulateInboundCall(ctx, r.ID, "+12125550001", demoNumber); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "next call: routing_url answered %d -> %s %d (%s %s) in %v\n", res.RoutedAfter.Status,
		res.RoutedAfter.TargetType, res.RoutedAfter.TargetID, agent.FirstName, agent.LastName,
		res.RoutedAfter.Latency.Round(100*time.Microsecond))

	step("list")
	if res.Listed, err = t.list(ctx, 0); err != nil {
		return nil, err
	}
	fmt.Fprintln(w, "\nSet DIALPAD_API_KEY to run the commands (list, create, enable, disable, delete, assign-number) on your account.")
	return res, nil
}
