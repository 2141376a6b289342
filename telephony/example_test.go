package telephony_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// The same code places a call on any provider. Here: JustCall's simulator;
// drop the simulator and WithBaseURL to call the real API.
func ExampleClient_Dial() {
	sim := justcalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(2)
	jc, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	phone := jc.Telephony()
	call, err := phone.Dial(context.Background(), telephony.CallRequest{From: "+14155550001", To: "+14155559876", AgentID: "1002"})
	switch {
	case errors.Is(err, telephony.ErrOutcomeUnknown):
		log.Fatal("sent, answer lost: the agent's phone may ring; check before dialling again")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(call.Provider, call.Status, call.Direction)

	// Bad input is refused before anything is sent.
	_, err = phone.Dial(context.Background(), telephony.CallRequest{From: "+14155550001", To: "415 555 9876"})
	fmt.Println(errors.Is(err, telephony.ErrInvalidRequest))
	// Output:
	// justcall ringing outbound
	// true
}

// Users pages through the agents as the loop advances; breaking out stops
// fetching.
func ExampleClient_Users() {
	sim := dialpadtest.NewServer()
	defer sim.Close()
	sim.SeedUsers(3)
	dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	n := 0
	for u, err := range dp.Telephony().Users(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		_ = u.Email
	}
	fmt.Println(n, "agents")
	// Output: 3 agents
}

// Transfer is portable too; a provider without a transfer API (JustCall)
// returns an error matching ErrUnsupported.
func ExampleClient_Transfer() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(2)
	callID := sim.CreateInboundCall("+33612345678", "+14155550100")
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	phone := ac.Telephony()
	err = phone.Transfer(context.Background(), fmt.Sprint(callID), telephony.UserByEmail("agent2@example.com"))
	fmt.Println(err, len(sim.Transfers()), phone.Capabilities().Transfer)
	// Output: <nil> 1 true
}

// Route composes rules into one RouteFunc for every provider's routing
// handler.
func ExampleRoute() {
	crm := map[string]string{"+14155550101": "ann@example.com"}
	route := telephony.Route(telephony.Target{Type: telephony.TargetCallCenter, ID: "9000"},
		telephony.LastAgent(func(ctx context.Context, caller string) (string, error) { return crm[caller], nil }),
		telephony.ByCallerPrefix(map[string]telephony.Target{"+44": {Type: telephony.TargetTeam, ID: "uk"}}),
	)
	for _, from := range []string{"+14155550101", "+442071838750", "+33612345678"} {
		to, _ := route(context.Background(), telephony.InboundCall{From: from, StartedAt: time.Now()})
		fmt.Println(from, "->", to.Type, to.ID+to.Email)
	}
	// Output:
	// +14155550101 -> user ann@example.com
	// +442071838750 -> team uk
	// +33612345678 -> callcenter 9000
}

// Errors carry the provider's status and message and match sentinels.
func ExampleError() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	_, err = ac.Calls.Get(context.Background(), 424242)
	var te *telephony.Error
	if errors.As(err, &te) {
		fmt.Println(errors.Is(err, telephony.ErrNotFound), te.Provider, te.StatusCode, te.Attempts)
	}
	// Output: true aircall 404 1
}
