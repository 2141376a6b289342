package dialpad_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

func TestTelephonyCapabilities(t *testing.T) {
	c, _ := newTestClient(t)
	p := c.Telephony()
	eq(t, "provider", p.Provider(), "dialpad")
	want := telephony.Capabilities{Dial: true, Users: true, Transfer: true, InboundRouting: true, CallEvents: true, CallRouters: true}
	eq(t, "capabilities", p.Capabilities(), want)
	var dp *dialpad.Client
	assert.True(t, p.As(&dp), "As(**dialpad.Client) failed")
	assert.Same(t, c, dp, "As(**dialpad.Client) did not give back the client")
	var wrong *string
	assert.False(t, p.As(&wrong), "As(**string) succeeded")
}

func TestTelephonyDial(t *testing.T) {
	c, srv := newTestClient(t)
	u := srv.SeedUsers(1)[0]
	agent := strconv.FormatInt(u.ID, 10)
	call, err := c.Telephony().Dial(t.Context(), telephony.CallRequest{To: "+14155550100", From: "+16285550199", AgentID: agent})
	ok(t, err)
	assert.NotEmpty(t, call.ID, "call = %+v", call)
	assert.Equal(t, "dialpad", call.Provider, "call provider")
	assert.Equal(t, agent, call.AgentID, "call agent")
	assert.Equal(t, telephony.DirectionOutbound, call.Direction, "call direction")
	assert.Equal(t, telephony.StatusInitiated, call.Status, "call status")
	placed := srv.Calls()[0]
	assert.Equal(t, call.ID, strconv.FormatInt(placed.ID, 10), "placed = %+v", placed)
	assert.Equal(t, u.ID, placed.UserID, "placed user_id")
	assert.Equal(t, "+14155550100", placed.PhoneNumber, "placed phone_number")
	assert.Equal(t, "+16285550199", placed.OutboundCallerID, "placed outbound_caller_id")
	for _, bad := range []telephony.CallRequest{
		{To: "+14155550100", AgentID: "agent7"},
		{To: "+14155550100"},
		{To: "+14155550100", AgentID: "-3"},
		{To: "4155550100", AgentID: agent},
	} {
		_, err := c.Telephony().Dial(t.Context(), bad)
		isErr(t, err, telephony.ErrInvalidRequest)
	}
	eq(t, "requests", srv.Count("POST", "/api/v2/call"), 1)
}

func TestTelephonyUsers(t *testing.T) {
	c, srv := newTestClient(t)
	seeded := srv.SeedUsers(12)
	i := 0
	for u, err := range c.Telephony().Users(t.Context()) {
		ok(t, err)
		require.Less(t, i, len(seeded), "more users than seeded: %+v", u)
		assert.Equal(t, strconv.FormatInt(seeded[i].ID, 10), u.ID, "user %d = %+v", i, u)
		assert.Equal(t, seeded[i].Email, u.Email, "user %d = %+v", i, u)
		assert.NotEmpty(t, u.Name, "user %d = %+v", i, u)
		assert.True(t, u.Available, "user %d = %+v; want available", i, u)
		i++
	}
	eq(t, "users", i, 12)
	found, err := c.Telephony().FindUserByEmail(t.Context(), "AGENT12@example.com")
	ok(t, err)
	eq(t, "found", found.ID, strconv.FormatInt(seeded[11].ID, 10))
}

func TestTelephonyTransfer(t *testing.T) {
	c, srv := newTestClient(t)
	users := srv.SeedUsers(3)
	call, err := c.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: users[0].ID})
	ok(t, err)
	id := strconv.FormatInt(call.CallID, 10)
	p := c.Telephony()
	ok(t, p.Transfer(t.Context(), id, telephony.UserTarget(strconv.FormatInt(users[1].ID, 10))))
	ok(t, p.Transfer(t.Context(), id, telephony.UserByEmail("agent3@example.com")))
	ok(t, p.Transfer(t.Context(), id, telephony.Target{Type: telephony.TargetDepartment, ID: "77"}))
	ok(t, p.Transfer(t.Context(), id, telephony.Target{Type: telephony.TargetCallCenter, ID: "78"}))
	ok(t, p.Transfer(t.Context(), id, telephony.Target{Type: telephony.TargetOffice, ID: "79"}))
	ok(t, p.Transfer(t.Context(), id, telephony.NumberTarget("+14155550177")))
	trs := srv.Transfers()
	require.Len(t, trs, 6, "transfers = %+v", trs)
	want := []struct {
		id  int64
		typ string
	}{{users[1].ID, "user"}, {users[2].ID, "user"}, {77, "department"}, {78, "callcenter"}, {79, "office"}}
	for i, w := range want {
		assert.Equal(t, w.id, trs[i].ToTargetID, "transfer %d = %+v", i, trs[i])
		assert.Equal(t, w.typ, trs[i].ToTargetType, "transfer %d = %+v", i, trs[i])
	}
	eq(t, "number transfer", trs[5].ToNumber, "+14155550177")
	eq(t, "email lookups", srv.Count("GET", "/api/v2/users"), 1)

	err = p.Transfer(t.Context(), id, telephony.Target{Type: telephony.TargetTeam, ID: "5"})
	isErr(t, err, telephony.ErrUnsupported)
	isErr(t, p.Transfer(t.Context(), "call-1", telephony.NumberTarget("+14155550177")), telephony.ErrInvalidRequest)
	isErr(t, p.Transfer(t.Context(), id, telephony.Target{Type: telephony.TargetDepartment, ID: "sales"}), telephony.ErrInvalidRequest)
	isErr(t, p.Transfer(t.Context(), id, telephony.UserByEmail("nobody@example.com")), telephony.ErrNotFound)
	eq(t, "transfers after refused ones", len(srv.Transfers()), 6)
}

// harness adapts the simulator to the shared conformance suite.
type harness struct {
	t   *testing.T
	c   *dialpad.Client
	sim *dialpadtest.Server
}

func (h *harness) Client() *telephony.Client { return h.c.Telephony() }
func (h *harness) UnauthorizedClient() *telephony.Client {
	c, err := dialpad.New("intruder", telephony.WithBaseURL(h.sim.URL()))
	ok(h.t, err)
	return c.Telephony()
}
func (h *harness) SeedUsers(n int)                    { h.sim.SeedUsers(n) }
func (h *harness) UsersPageSize() int                 { return dialpadtest.DefaultPageSize }
func (h *harness) UsersPath() string                  { return "/api/v2/users" }
func (h *harness) Requests(method, prefix string) int { return h.sim.Count(method, prefix) }
func (h *harness) NativeClient() any                  { return new(*dialpad.Client) }
func (h *harness) FailNext(status, n int, retry string) {
	h.sim.InjectFault(dialpadtest.Fault{Status: status, Times: n, RetryAfter: retry})
}
func (h *harness) DialRequest() telephony.CallRequest {
	u := h.sim.AddUser(dialpadtest.User{FirstName: "Dialer", Email: "dialer@example.com"})
	return telephony.CallRequest{To: "+14155550199", AgentID: itoa(u.ID)}
}
func (h *harness) LiveCall() (string, telephony.Target) {
	u := h.sim.AddUser(dialpadtest.User{FirstName: "Target", Email: "target@example.com"})
	c := h.sim.AddCall(dialpadtest.Call{ExternalNumber: "+33612345678", InternalNumber: "+14155550100"})
	return itoa(c.ID), telephony.UserTarget(itoa(u.ID))
}

func TestConformance(t *testing.T) {
	telephonytest.RunConformance(t, func(t *testing.T) telephonytest.Harness {
		c, sim := newTestClient(t)
		return &harness{t: t, c: c, sim: sim}
	})
}
