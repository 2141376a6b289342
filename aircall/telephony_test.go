package aircall_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

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
	if err != nil {
		h.t.Fatal(err)
	}
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
	if got := c.Capabilities(); got != want || c.Provider() != telephony.ProviderAircall {
		t.Errorf("capabilities = %+v", got)
	}
}

func TestPortableDialResolvesFrom(t *testing.T) {
	sim := newSim(t)
	u := sim.AddUser(aircalltest.User{Name: "Bob", Email: "bob@example.com",
		Numbers: []aircalltest.Number{{Digits: "+33 1 76 36 06 95"}, {Digits: "+1 415 555 0100"}}})
	c := newClient(t, sim).Telephony()
	agent := strconv.FormatInt(u.ID, 10)

	call, err := c.Dial(t.Context(), telephony.CallRequest{From: "+14155550100", To: "+14155550199", AgentID: agent})
	if err != nil {
		t.Fatal(err)
	}
	if call.ID != "" || call.Status != telephony.StatusInitiated || call.From != "+14155550100" || call.Direction != telephony.DirectionOutbound {
		t.Errorf("call = %+v", call)
	}
	if _, err := c.Dial(t.Context(), telephony.CallRequest{To: "+14155550199", AgentID: agent}); err != nil {
		t.Fatal(err)
	}
	started := sim.StartedCalls()
	if len(started) != 2 || started[0].NumberID != u.Numbers[1].ID || started[1].NumberID != u.Numbers[0].ID {
		t.Errorf("started = %+v (want the matching number, then the first)", started)
	}

	before := sim.Count("POST", "")
	_, err = c.Dial(t.Context(), telephony.CallRequest{From: "+14155550111", To: "+14155550199", AgentID: agent})
	if !errors.Is(err, telephony.ErrInvalidRequest) || !strings.Contains(err.Error(), "+33176360695, +14155550100") {
		t.Errorf("foreign From: %v", err)
	}
	if _, err := c.Dial(t.Context(), telephony.CallRequest{To: "+14155550199", AgentID: "bob"}); !errors.Is(err, telephony.ErrInvalidRequest) {
		t.Errorf("non-numeric AgentID: %v", err)
	}
	if sim.Count("POST", "") != before {
		t.Error("a refused Dial was sent")
	}
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
		if err := c.Transfer(t.Context(), call, to); err != nil {
			t.Errorf("%+v: %v", to, err)
		}
	}
	want := []aircalltest.Transfer{{CallID: id, UserID: users[0].ID}, {CallID: id, UserID: users[1].ID}, {CallID: id, TeamID: team.ID}, {CallID: id, Number: "+14155550123"}}
	got := sim.Transfers()
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("transfers = %+v, want %+v", got, want)
		}
	}
	if err := c.Transfer(t.Context(), call, telephony.Target{Type: telephony.TargetOffice, ID: "1"}); !errors.Is(err, telephony.ErrUnsupported) {
		t.Errorf("office target: %v", err)
	}
	if err := c.Transfer(t.Context(), "abc", telephony.UserTarget("1")); !errors.Is(err, telephony.ErrInvalidRequest) {
		t.Errorf("call id abc: %v", err)
	}
	var native *aircall.Client
	if !c.As(&native) || native == nil {
		t.Error("As(**aircall.Client) = false")
	}
}
