package justcall_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestPortable(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	phone := c.Telephony()
	assert.Equal(t, "justcall", phone.Provider(), "provider")
	assert.Equal(t, telephony.Capabilities{Dial: true, Users: true, CallEvents: true, Unverified: justcall.MakeCallUnverified}, phone.Capabilities(), "capabilities")

	call, err := phone.Dial(t.Context(), telephony.CallRequest{From: from, To: customer, AgentID: "1002"})
	require.NoError(t, err)
	assert.Equal(t, telephony.Call{ID: "call_00000001", Provider: "justcall", From: from, To: customer, AgentID: "1002",
		Direction: telephony.DirectionOutbound, Status: telephony.StatusRinging}, *call, "call")

	for _, req := range []telephony.CallRequest{
		{From: from, To: customer, AgentID: "agent-7"},
		{From: from, To: customer, AgentID: "0"},
		{To: customer}, // JustCall needs From
		{From: from, To: "0044 20"},
	} {
		_, err := phone.Dial(t.Context(), req)
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "%+v", req)
	}
	assert.Equal(t, 1, sim.Count("POST", "/v2/calls/make"), "requests (invalid dials send nothing)")

	var users []telephony.User
	for u, err := range phone.Users(t.Context()) {
		require.NoError(t, err)
		users = append(users, u)
	}
	assert.Equal(t, []telephony.User{
		{ID: "1001", Email: "agent1@example.com", Name: "Agent 1", Available: true},
		{ID: "1002", Email: "agent2@example.com", Name: "Agent 2", Available: true},
		{ID: "1003", Email: "agent3@example.com", Name: "Agent 3", Available: false},
	}, users, "users")
	u, err := phone.FindUserByEmail(t.Context(), "AGENT2@example.com")
	require.NoError(t, err)
	assert.Equal(t, "1002", u.ID, "found user")

	assert.ErrorIs(t, phone.Transfer(t.Context(), call.ID, telephony.UserTarget("1001")), telephony.ErrUnsupported)

	var jc *justcall.Client
	assert.True(t, phone.As(&jc), "As(**justcall.Client)")
	assert.Same(t, c, jc, "As target")
	var other *int
	assert.False(t, phone.As(&other), "As(other)")
	assert.False(t, phone.As(nil), "As(nil)")
}
