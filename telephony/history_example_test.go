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
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// Calls walks the call history, newest first, with the same query on every
// provider. Here: a customer's answered inbound calls of the last week on
// Aircall's simulator; Dialpad cannot search its history by number and
// says so.
func ExampleClient_Calls() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	agents := sim.SeedUsers(2)
	week := time.Now().Add(-7 * 24 * time.Hour)
	sim.AddCall(aircalltest.Call{RawDigits: "+1 415-555-0100", UserID: agents[0].ID, StartedAt: time.Now().Add(-48 * time.Hour).Unix()})
	sim.AddCall(aircalltest.Call{RawDigits: "+1 415-555-0100", UserID: agents[1].ID, StartedAt: time.Now().Add(-time.Hour).Unix()})
	sim.AddCall(aircalltest.Call{RawDigits: "+1 415-555-0100", StartedAt: time.Now().Add(-time.Minute).Unix()}) // missed
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	q := telephony.CallQuery{Number: "+14155550100", Direction: telephony.DirectionInbound, Since: week}
	for call, err := range ac.Telephony().Calls(context.Background(), q) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(call.From, call.Status, "agent="+call.AgentEmail)
	}

	dsim := dialpadtest.NewServer()
	defer dsim.Close()
	dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(dsim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	for _, err := range dp.Telephony().Calls(context.Background(), q) {
		fmt.Println(errors.Is(err, telephony.ErrUnsupported))
	}
	// Output:
	// +14155550100 missed agent=
	// +14155550100 completed agent=agent2@example.com
	// +14155550100 completed agent=agent1@example.com
	// true
}

// The rule "send the caller to the agent they spoke to last" without a
// CRM: Record remembers the agent of each answered inbound call from the
// events a webhook handler receives (pass mem.Record(next) as its
// EventFunc), and on a miss Aircall's and JustCall's own history is asked.
func ExampleLastAgentMemory_Rule() {
	sim := aircalltest.NewServer()
	defer sim.Close()
	agents := sim.SeedUsers(2)
	sim.AddCall(aircalltest.Call{RawDigits: "+33 6 12 34 56 78", UserID: agents[1].ID, StartedAt: time.Now().Add(-72 * time.Hour).Unix()})
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{
		State:   state.Memory(), // nil: state.Default(), shared by every replica when it is Redis
		History: []*telephony.Client{ac.Telephony()},
	})
	// What aircall.NewWebhookHandler(token, mem.Record(next), ...) would
	// record from call.answered.
	record := mem.Record(nil)
	_ = record(context.Background(), telephony.CallEvent{Provider: telephony.ProviderAircall, CallID: "1",
		Status: telephony.StatusInProgress, Direction: telephony.DirectionInbound, From: "+14155550100", AgentID: "1001"})

	route := telephony.Route(telephony.Target{Type: telephony.TargetTeam, ID: "77"}, mem.Rule())
	for _, caller := range []string{"+14155550100", "+33612345678", "+442071838750"} {
		to, err := route(context.Background(), telephony.InboundCall{Provider: telephony.ProviderAircall, From: caller})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(caller, "->", to.Type, to.ID)
	}
	s := mem.Stats()
	fmt.Println("history requests:", s.HistoryRequests, "found:", s.HistoryFound)
	// Output:
	// +14155550100 -> user 1001
	// +33612345678 -> user 1003
	// +442071838750 -> team 77
	// history requests: 2 found: 1
}
