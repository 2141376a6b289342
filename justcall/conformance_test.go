package justcall_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// conformance adapts the JustCall simulator to the shared suite.
type conformance struct {
	t   *testing.T
	sim *justcalltest.Server
}

func (h *conformance) Client() *telephony.Client { return newClient(h.t, h.sim).Telephony() }
func (h *conformance) UnauthorizedClient() *telephony.Client {
	c, err := justcall.New("intruder", "nope", telephony.WithBaseURL(h.sim.URL()))
	require.NoError(h.t, err)
	return c.Telephony()
}
func (h *conformance) SeedUsers(n int)                    { h.sim.SeedUsers(n) }
func (h *conformance) UsersPageSize() int                 { return justcall.MaxUsersPerPage }
func (h *conformance) UsersPath() string                  { return "/v2.1/users" }
func (h *conformance) Requests(method, prefix string) int { return h.sim.Count(method, prefix) }
func (h *conformance) NativeClient() any                  { return new(*justcall.Client) }
func (h *conformance) FailNext(status, n int, retryAfter string) {
	h.sim.InjectFault(justcalltest.Fault{Status: status, Times: n, RetryAfter: retryAfter})
}
func (h *conformance) DialRequest() telephony.CallRequest {
	u := h.sim.AddUser(justcalltest.User{Name: "Dialer", Email: "dialer@example.com"})
	h.sim.AddNumber("+14155551234", u.ID)
	return telephony.CallRequest{From: "+14155551234", To: "+14155559876", AgentID: strconv.FormatInt(u.ID, 10)}
}
func (h *conformance) LiveCall() (string, telephony.Target) {
	require.FailNow(h.t, "JustCall cannot transfer; LiveCall must not be called")
	return "", telephony.Target{}
}

func TestConformance(t *testing.T) {
	telephonytest.RunConformance(t, func(t *testing.T) telephonytest.Harness {
		sim := justcalltest.NewServer()
		t.Cleanup(sim.Close)
		return &conformance{t: t, sim: sim}
	})
}
