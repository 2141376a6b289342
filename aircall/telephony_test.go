package aircall_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// harness adapts the simulator to the shared conformance suite.
type harness struct {
	t   *testing.T
	sim *aircalltest.Server
}

func (h *harness) Client() *telephony.Client { return newClient(h.t, h.sim).Telephony() }
func (h *harness) UnauthorizedClient() *telephony.Client {
	c, err := aircall.New("intruder", "nope", telephony.WithBaseURL(h.sim.URL()))
	require.NoError(h.t, err)
	return c.Telephony()
}
func (h *harness) SeedUsers(n int)                    { h.sim.SeedUsers(n) }
func (h *harness) UsersPageSize() int                 { return aircall.MaxPerPage }
func (h *harness) UsersPath() string                  { return "/v1/users" }
func (h *harness) Requests(method, prefix string) int { return pageRequests(h.sim, method, prefix) }
func (h *harness) NativeClient() any                  { return new(*aircall.Client) }
func (h *harness) FailNext(status, n int, retry string) {
	h.sim.InjectFault(aircalltest.Fault{Status: status, Times: n, RetryAfter: retry})
}
func (h *harness) DialRequest() telephony.CallRequest {
	u := h.sim.AddUser(aircalltest.User{Name: "Dialer", Email: "dialer@example.com", Numbers: []aircalltest.Number{{Digits: "+1 415 555 0100"}}})
	return telephony.CallRequest{To: "+14155550199", AgentID: strconv.FormatInt(u.ID, 10)}
}
func (h *harness) LiveCall() (string, telephony.Target) {
	u := h.sim.AddUser(aircalltest.User{Name: "Target", Email: "target@example.com"})
	id := h.sim.CreateInboundCall("+33612345678", "+14155550100")
	return strconv.FormatInt(id, 10), telephony.UserTarget(strconv.FormatInt(u.ID, 10))
}

func TestConformance(t *testing.T) {
	telephonytest.RunConformance(t, func(t *testing.T) telephonytest.Harness {
		return &harness{t: t, sim: newSim(t)}
	})
}

func TestPortableCapabilities(t *testing.T) {
	c := newClient(t, newSim(t)).Telephony()
	want := telephony.Capabilities{Dial: true, Users: true, Transfer: true, InboundRouting: true, CallEvents: true}
	assert.Equal(t, want, c.Capabilities(), "capabilities")
	assert.Equal(t, telephony.ProviderAircall, c.Provider(), "provider")
}

func TestPortableDialResolvesFrom(t *testing.T) {
	sim := newSim(t)
	u := sim.AddUser(aircalltest.User{Name: "Bob", Email: "bob@example.com",
		Numbers: []aircalltest.Number{{Digits: "+33 1 76 36 06 95"}, {Digits: "+1 415 555 0100"}}})
	c := newClient(t, sim).Telephony()
	agent := strconv.FormatInt(u.ID, 10)

	call, err := c.Dial(t.Context(), telephony.CallRequest{From: "+14155550100", To: "+14155550199", AgentID: agent})
	require.NoError(t, err)
	assert.Empty(t, call.ID, "call = %+v", call)
	assert.Equal(t, telephony.StatusInitiated, call.Status, "call = %+v", call)
	assert.Equal(t, "+14155550100", call.From, "call = %+v", call)
	assert.Equal(t, telephony.DirectionOutbound, call.Direction, "call = %+v", call)
	_, err = c.Dial(t.Context(), telephony.CallRequest{To: "+14155550199", AgentID: agent})
	require.NoError(t, err)
	started := sim.StartedCalls()
	if assert.Len(t, started, 2, "started = %+v", started) {
		assert.Equal(t, u.Numbers[1].ID, started[0].NumberID, "started = %+v (want the matching number, then the first)", started)
		assert.Equal(t, u.Numbers[0].ID, started[1].NumberID, "started = %+v (want the matching number, then the first)", started)
	}

	before := sim.Count("POST", "")
	_, err = c.Dial(t.Context(), telephony.CallRequest{From: "+14155550111", To: "+14155550199", AgentID: agent})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "foreign From")
	assert.ErrorContains(t, err, "+33176360695, +14155550100", "foreign From")
	_, err = c.Dial(t.Context(), telephony.CallRequest{To: "+14155550199", AgentID: "bob"})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "non-numeric AgentID")
	assert.Equal(t, before, sim.Count("POST", ""), "a refused Dial was sent")
}

func TestPortableTransferTargets(t *testing.T) {
	sim := newSim(t)
	users := sim.SeedUsers(2)
	team := sim.AddTeam("Support", users[0].ID, users[1].ID)
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	c := newClient(t, sim).Telephony()
	call := strconv.FormatInt(id, 10)
	for _, to := range []telephony.Target{
		telephony.UserTarget(strconv.FormatInt(users[0].ID, 10)),
		telephony.UserByEmail("Agent2@Example.com"),
		{Type: telephony.TargetTeam, ID: strconv.FormatInt(team.ID, 10)},
		telephony.NumberTarget("+14155550123"),
	} {
		assert.NoError(t, c.Transfer(t.Context(), call, to), "%+v", to)
	}
	want := []aircalltest.Transfer{{CallID: id, UserID: users[0].ID}, {CallID: id, UserID: users[1].ID}, {CallID: id, TeamID: team.ID}, {CallID: id, Number: "+14155550123"}}
	got := sim.Transfers()
	require.GreaterOrEqual(t, len(got), len(want), "transfers = %+v, want %+v", got, want)
	require.Equal(t, want, got[:len(want)], "transfers")
	err := c.Transfer(t.Context(), call, telephony.Target{Type: telephony.TargetOffice, ID: "1"})
	assert.ErrorIs(t, err, telephony.ErrUnsupported, "office target")
	err = c.Transfer(t.Context(), "abc", telephony.UserTarget("1"))
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "call id abc")
	var native *aircall.Client
	assert.True(t, c.As(&native), "As(**aircall.Client)")
	assert.NotNil(t, native, "As(**aircall.Client)")
}
