package aircall_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"strconv"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func ExampleUsersService_FindByEmail() {
	sim := aircalltest.NewServer() // drop these lines and WithBaseURL to use the real API
	defer sim.Close()
	sim.SeedUsers(3)

	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.Users.FindByEmail(context.Background(), "Agent2@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Name, u.Email)
	_, err = c.Users.FindByEmail(context.Background(), "nobody@example.com")
	fmt.Println(errors.Is(err, telephony.ErrNotFound))
	// Output:
	// Agent 2 agent2@example.com
	// true
}

func ExampleUsersService_List() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(120)

	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	for _, err := range c.Users.List(context.Background(), nil) {
		if err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Println(n, "users in", sim.Count("GET", "/v1/users"), "pages")
	// Output: 120 users in 3 pages
}

func ExampleCallsService_Transfer() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	agent := sim.SeedUsers(1)[0]
	callID := sim.CreateInboundCall("+33612345678", "+14155550100")

	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	err = c.Calls.Transfer(context.Background(), callID, aircall.TransferRequest{UserID: agent.ID})
	switch {
	case errors.Is(err, telephony.ErrOutcomeUnknown):
		// Sent, answer lost: read the call before trying again.
	case err != nil:
		log.Fatal(err)
	}
	// Two destinations are refused before anything is sent.
	err = c.Calls.Transfer(context.Background(), callID, aircall.TransferRequest{UserID: agent.ID, TeamID: 3})
	fmt.Println(errors.Is(err, telephony.ErrInvalidRequest))
	fmt.Println(len(sim.Transfers()), "transfer")
	// Output:
	// true
	// 1 transfer
}

// Smart routing: every inbound call goes to the caller's agent, found by
// email in the cached directory.
func ExampleNewRoutingHandler() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(5)

	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	lastAgent := map[string]string{"+33612345678": "agent4@example.com"} // your CRM
	route := func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
		if email, ok := lastAgent[call.From]; ok {
			return telephony.UserByEmail(email), nil
		}
		return telephony.Target{}, nil // leave the call to Aircall's own routing
	}
	h, err := aircall.NewRoutingHandler(route, aircall.RoutingOptions{
		Client: c,
		Secret: "the-webhook-token",
		OnError: func(ctx context.Context, err *telephony.HandlerError) {
			log.Printf("call %s not routed: %v", err.CallID, err.Err)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h) // in production: telephony.NewServer(":8080", h)
	defer srv.Close()
	sim.SetWebhook(srv.URL, "the-webhook-token")

	callID := sim.SimulateInboundCall("+33 6 12 34 56 78", "+1 415 555 0100")
	if err := h.Close(context.Background()); err != nil { // wait for the routing
		log.Fatal(err)
	}
	for _, tr := range sim.Transfers() {
		fmt.Println(tr.CallID == callID, "transferred to user", tr.UserID == sim.Users()[3].ID)
	}
	s := h.Stats()
	fmt.Printf("{Received:%d Routed:%d Ignored:%d Duplicates:%d Rejected:%d Failed:%d Skipped:%d}\n",
		s.Received, s.Routed, s.Ignored, s.Duplicates, s.RejectedTotal(), s.Failed, s.Skipped)
	// Output:
	// true transferred to user true
	// {Received:1 Routed:1 Ignored:0 Duplicates:0 Rejected:0 Failed:0 Skipped:0}
}

func ExampleNewWebhookHandler() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	agent := sim.SeedUsers(1)[0]

	events := make(chan telephony.CallEvent, 10)
	hh, err := aircall.NewWebhookHandler(func(ctx context.Context, ev telephony.CallEvent) error {
		events <- ev
		return nil
	}, aircall.WebhookOptions{Secret: "the-webhook-token", MaxInFlight: 1})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(hh)
	defer srv.Close()
	sim.SetWebhook(srv.URL, "the-webhook-token")

	id := sim.SimulateInboundCall("+33612345678", "+14155550100")
	fmt.Println((<-events).Status)
	_ = sim.AnswerCall(id, agent.ID)
	ev := <-events
	fmt.Println(ev.Type, ev.Status, ev.AgentID == strconv.FormatInt(agent.ID, 10))
	_ = hh.Close(context.Background())
	// Output:
	// ringing
	// call.answered in-progress true
}

func ExampleClient_Telephony() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	agent := sim.SeedUsers(1)[0] // one number: +1 415 500 0001

	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	phone := c.Telephony()
	call, err := phone.Dial(context.Background(), telephony.CallRequest{
		AgentID: strconv.FormatInt(agent.ID, 10), To: "+14155550199",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("from %s to %s: %s (id %q: Aircall returns none)\n", call.From, call.To, call.Status, call.ID)
	// Output: from +14155000001 to +14155550199: initiated (id "": Aircall returns none)
}
