package justcall_test

import (
	"testing"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestPortable(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	phone := c.Telephony()
	eq(t, phone.Provider(), "justcall", "provider")
	eq(t, phone.Capabilities(), telephony.Capabilities{Dial: true, Users: true, CallEvents: true, Unverified: justcall.MakeCallUnverified}, "capabilities")

	call, err := phone.Dial(t.Context(), telephony.CallRequest{From: from, To: customer, AgentID: "1002"})
	must(t, err)
	eq(t, *call, telephony.Call{ID: "call_00000001", Provider: "justcall", From: from, To: customer, AgentID: "1002",
		Direction: telephony.DirectionOutbound, Status: telephony.StatusRinging}, "call")

	for _, req := range []telephony.CallRequest{
		{From: from, To: customer, AgentID: "agent-7"},
		{From: from, To: customer, AgentID: "0"},
		{To: customer}, // JustCall needs From
		{From: from, To: "0044 20"},
	} {
		_, err := phone.Dial(t.Context(), req)
		wantIs(t, err, telephony.ErrInvalidRequest)
	}
	eq(t, sim.Count("POST", "/v2/calls/make"), 1, "requests (invalid dials send nothing)")

	var users []telephony.User
	for u, err := range phone.Users(t.Context()) {
		must(t, err)
		users = append(users, u)
	}
	eq(t, users, []telephony.User{
		{ID: "1001", Email: "agent1@example.com", Name: "Agent 1", Available: true},
		{ID: "1002", Email: "agent2@example.com", Name: "Agent 2", Available: true},
		{ID: "1003", Email: "agent3@example.com", Name: "Agent 3", Available: false},
	}, "users")
	u, err := phone.FindUserByEmail(t.Context(), "AGENT2@example.com")
	must(t, err)
	eq(t, u.ID, "1002", "found user")

	wantIs(t, phone.Transfer(t.Context(), call.ID, telephony.UserTarget("1001")), telephony.ErrUnsupported)

	var jc *justcall.Client
	eq(t, phone.As(&jc), true, "As(**justcall.Client)")
	eq(t, jc, c, "As target")
	var other *int
	eq(t, phone.As(&other), false, "As(other)")
	eq(t, phone.As(nil), false, "As(nil)")
}
