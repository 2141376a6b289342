package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Demonstration settings. The routing budget is short so the demo is
// quick; Dialpad waits up to 5 s, and the library's default is 3.5 s.
const (
	routerSecret   = "demo-router-secret-0123456789abcdef" // >= 32 characters
	eventsSecret   = "demo-events-secret-0123456789abcdef"
	carolsCustomer = "+12125550103" // not in the CRM
	webhookToken   = "demo-aircall-webhook-token"
	routingBudget  = 1500 * time.Millisecond
	dialpadNumber  = "+14155550000"
	aircallNumber  = "+14155550001"
	fallbackCenter = 9000 // a Dialpad call center
)

// simulate runs the demonstration against the simulators.
func simulate(ctx context.Context) ([]row, error) {
	dsim, asim := dialpadtest.NewServer(), aircalltest.NewServer()
	defer dsim.Close()
	defer asim.Close()
	dec := &decisions{m: map[string]decision{}}
	names := map[string]string{} // "provider/user id" -> agent name

	// Both providers' agents, with the same emails; the Aircall ones form
	// the fallback team (transfers need a team Aircall knows).
	var aircallAgents []int64
	carol := map[string]int64{}
	for i, a := range agents {
		du := dsim.AddUser(dialpadtest.User{FirstName: a.First, LastName: a.Last, Email: a.Email, OfficeID: 1})
		names["dialpad/"+strconv.FormatInt(du.ID, 10)] = a.First + " " + a.Last
		au := asim.AddUser(aircalltest.User{Name: a.First + " " + a.Last, Email: a.Email,
			Numbers: []aircalltest.Number{{Digits: fmt.Sprintf("+1 415 555 02%02d", i)}}})
		names["aircall/"+strconv.FormatInt(au.ID, 10)] = a.First + " " + a.Last
		aircallAgents = append(aircallAgents, au.ID)
		if a.First == "Carol" {
			carol["dialpad"], carol["aircall"] = du.ID, au.ID
		}
	}
	fallbackTeam := asim.AddTeam("Support", aircallAgents...)
	opts := []telephony.Option{telephony.WithRetryBackoff(10*time.Millisecond, 200*time.Millisecond)}
	dp, err := dialpad.New(dialpadtest.APIKey, append(opts, telephony.WithBaseURL(dsim.URL()))...)
	if err != nil {
		return nil, err
	}
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(opts, telephony.WithBaseURL(asim.URL()))...)
	if err != nil {
		return nil, err
	}

	// The provider's own memory of who spoke to whom: the call events
	// (Dialpad's webhook below) and, on a miss, Aircall's call history.
	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{History: []*telephony.Client{ac.Telephony()}})
	rf := newRoute(mem)
	events, err := dialpad.NewWebhookHandler(mem.Record(nil), dialpad.WebhookOptions{Secret: eventsSecret})
	if err != nil {
		return nil, err
	}

	// One server for both routing endpoints, as in production.
	dh, err := dialpad.NewRoutingHandler(dec.wrap(rf), dialpad.RoutingOptions{
		Secret: routerSecret, Client: dp, Budget: routingBudget,
		Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: strconv.Itoa(fallbackCenter)},
	})
	if err != nil {
		return nil, err
	}
	ah, err := aircall.NewRoutingHandler(dec.wrap(rf), aircall.RoutingOptions{
		Client: ac,
		Secret: webhookToken, Timeout: 10 * time.Second, RouteTimeout: routingBudget,
		Fallback: telephony.Target{Type: telephony.TargetTeam, ID: strconv.FormatInt(fallbackTeam.ID, 10)},
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /dialpad/route", dh)
	mux.Handle("POST /aircall/calls", ah)
	mux.Handle("POST /dialpad/events", events)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := telephony.NewServer(l.Addr().String(), mux)
	go func() { _ = srv.Serve(l) }()
	defer func() {
		_ = ah.Close(ctx)
		_ = dh.Close(ctx)
		_ = events.Close(ctx)
		_ = srv.Shutdown(ctx)
	}()
	base := "http://" + l.Addr().String()

	// Dialpad: create the call router through the API, give it a number.
	router, err := dp.CallRouters.Create(ctx, dialpad.CreateCallRouterRequest{
		Name: "Smart routing", RoutingURL: base + "/dialpad/route", OfficeID: 1,
		DefaultTargetID: fallbackCenter, DefaultTargetType: "callcenter", Secret: routerSecret,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the Dialpad call router: %w", err)
	}
	if _, err := dp.CallRouters.AssignNumber(ctx, router.ID, dialpad.AssignNumberRequest{Number: dialpadNumber}); err != nil {
		return nil, fmt.Errorf("assigning a number to the router: %w", err)
	}
	// Aircall: the webhook that receives call.created.
	asim.SetWebhook(base+"/aircall/calls", webhookToken)

	// Carol took her customer's last call: Dialpad reported it to the
	// events webhook, and Aircall keeps it in its call history.
	dsim.AddWebhook(base+"/dialpad/events", eventsSecret)
	prev := dsim.AddCall(dialpadtest.Call{ExternalNumber: carolsCustomer, InternalNumber: dialpadNumber,
		TargetID: carol["dialpad"], TargetType: "user"})
	if err := dsim.SetCallState(prev.ID, "hangup"); err != nil {
		return nil, err
	}
	dsim.FlushEvents()
	for deadline := time.Now().Add(5 * time.Second); mem.Stats().Recorded == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return nil, errors.New("the Dialpad call events were not recorded within 5s")
		}
	}
	asim.AddCall(aircalltest.Call{RawDigits: carolsCustomer, UserID: carol["aircall"], StartedAt: time.Now().Add(-24 * time.Hour).Unix()})

	var rows []row
	for _, c := range callers {
		res, err := dsim.SimulateInboundCall(ctx, router.ID, c.From, dialpadNumber)
		if err != nil {
			return nil, err
		}
		d, _ := dec.get("dialpad", strconv.FormatInt(res.CallID, 10))
		to := fmt.Sprintf("%s %d", res.TargetType, res.TargetID)
		if n, ok := names["dialpad/"+strconv.FormatInt(res.TargetID, 10)]; ok && res.TargetType == "user" {
			to = n
		}
		if res.TargetType == "callcenter" {
			to = fmt.Sprintf("call center %d", res.TargetID)
		}
		fallback := res.Fallback || (res.TargetType == "callcenter" && res.TargetID == fallbackCenter)
		rows = append(rows, row{"dialpad", c.From, c.Who, to, how(d, fallback), d.took, res.Latency})
	}
	for _, c := range callers {
		start := time.Now()
		id := asim.SimulateInboundCall(c.From, aircallNumber)
		tr, err := waitTransfer(ctx, asim, id)
		done := time.Since(start)
		if err != nil {
			return nil, err
		}
		d, _ := dec.get("aircall", strconv.FormatInt(id, 10))
		to, fallback := names["aircall/"+strconv.FormatInt(tr.UserID, 10)], false
		if tr.TeamID != 0 {
			to, fallback = fmt.Sprintf("team %d", tr.TeamID), true
		}
		rows = append(rows, row{"aircall", c.From, c.Who, to, how(d, fallback), d.took, done})
	}
	return rows, nil
}

// waitTransfer waits for the Aircall handler, which works in the
// background after acknowledging the webhook, to transfer call id.
func waitTransfer(ctx context.Context, sim *aircalltest.Server, id int64) (aircalltest.Transfer, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, tr := range sim.Transfers() {
			if tr.CallID == id {
				return tr, nil
			}
		}
		select {
		case <-ctx.Done():
			return aircalltest.Transfer{}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return aircalltest.Transfer{}, fmt.Errorf("aircall call %d was not transferred within 10s", id)
}

// how says which rule decided, or why the fallback was used.
func how(d decision, fallback bool) string {
	switch {
	case errors.Is(d.err, context.DeadlineExceeded):
		return "fallback: routing budget ran out"
	case errors.Is(d.err, telephony.ErrNoRoute):
		return "fallback: no rule matched"
	case d.err != nil:
		return "fallback: " + d.err.Error()
	case fallback:
		return "fallback"
	case d.to.Email != "" && d.to.Email == "uk-desk@example.com":
		return "caller prefix +44 -> " + d.to.Email
	case d.to.Email != "":
		return "last agent -> " + d.to.Email
	case d.to.Type == telephony.TargetUser:
		return "last agent, from the provider -> user " + d.to.ID
	}
	return "rule"
}
