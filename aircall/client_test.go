package aircall_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestNewRejectsBadCredentials(t *testing.T) {
	for _, tc := range []struct{ id, token string }{{"", "x"}, {"x", ""}, {"a:b", "x"}, {"a\n", "x"}} {
		if _, err := aircall.New(tc.id, tc.token); err == nil {
			t.Errorf("New(%q, %q): want an error", tc.id, tc.token)
		}
	}
}

// recorder keeps the URL and Authorization header of every request.
type recorder struct {
	mu    sync.Mutex
	urls  []string
	auths []string
	rt    http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.auths = append(r.auths, req.Header.Get("Authorization"))
	r.mu.Unlock()
	return r.rt.RoundTrip(req)
}

func TestBasicAuthInHeaderNeverInURL(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(3)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	rec := &recorder{rt: tr}
	c := newClient(t, sim, telephony.WithHTTPClient(&http.Client{Transport: rec}))
	if _, err := c.Users.Get(t.Context(), sim.Users()[0].ID); err != nil {
		t.Fatal(err)
	}
	// base64("aircalltest-api-id:aircalltest-api-token")
	if want := "Basic YWlyY2FsbHRlc3QtYXBpLWlkOmFpcmNhbGx0ZXN0LWFwaS10b2tlbg=="; rec.auths[0] != want {
		t.Errorf("Authorization = %q, want %q", rec.auths[0], want)
	}
	for _, u := range rec.urls {
		if strings.Contains(u, aircalltest.APIToken) || strings.Contains(u, aircalltest.APIID) || strings.Contains(u, "@") {
			t.Errorf("credentials in URL %q", u)
		}
	}

	bad, err := aircall.New("someone", "wrong-token", telephony.WithBaseURL(sim.URL()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Calls.Get(t.Context(), 1)
	if !errors.Is(err, telephony.ErrUnauthorized) {
		t.Fatalf("wrong credentials: err = %v, want ErrUnauthorized", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("the token leaked into the error: %v", err)
	}
	// Aircall's {error, troubleshoot} body reaches the message.
	if !strings.Contains(err.Error(), "Unauthorized — Check your API ID") {
		t.Errorf("error lacks Aircall's message and troubleshoot text: %v", err)
	}
}

func TestUsersListFollowsNextPageLinks(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(120)
	c := newClient(t, sim)
	var got []aircall.User
	for u, err := range c.Users.List(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u)
	}
	if len(got) != 120 {
		t.Fatalf("listed %d users, want 120", len(got))
	}
	if got[0].Email != "agent1@example.com" || got[119].Email != "agent120@example.com" {
		t.Errorf("first/last = %q/%q", got[0].Email, got[119].Email)
	}
	if n := sim.Count("GET", "/v1/users"); n != 3 {
		t.Errorf("GET /v1/users requests = %d, want 3 (50 a page)", n)
	}

	// per_page 20 from page 2: pages 2..6 = 100 users.
	n := 0
	for _, err := range c.Users.List(t.Context(), &aircall.ListOptions{PerPage: 20, Page: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 100 {
		t.Errorf("from page 2 with 20 a page: %d users, want 100", n)
	}

	// Breaking out stops fetching.
	before := sim.Count("GET", "/v1/users")
	for range c.Users.List(t.Context(), &aircall.ListOptions{PerPage: 10}) {
		break
	}
	if n := sim.Count("GET", "/v1/users") - before; n != 1 {
		t.Errorf("break after the first user: %d requests, want 1", n)
	}

	// A page larger than Aircall serves is refused before sending.
	before = sim.Count("", "")
	for _, err := range c.Users.List(t.Context(), &aircall.ListOptions{PerPage: 51}) {
		if !errors.Is(err, telephony.ErrInvalidRequest) {
			t.Errorf("PerPage 51: err = %v, want ErrInvalidRequest", err)
		}
	}
	if sim.Count("", "") != before {
		t.Error("PerPage 51 sent a request")
	}
}

func TestUsersListStopsAtTheRecordCap(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(aircall.MaxListRecords + 50)
	c := newClient(t, sim)
	n := 0
	for _, err := range c.Users.List(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	t.Logf("10,000-record cap: listed %d of %d users in %d requests", n, aircall.MaxListRecords+50, sim.Count("GET", "/v1/users"))
	if n != aircall.MaxListRecords {
		t.Errorf("listed %d, want the cap %d", n, aircall.MaxListRecords)
	}
}

func TestUsersGetReturnsNumbers(t *testing.T) {
	sim := newSim(t)
	u := sim.AddUser(aircalltest.User{Name: "Bob", Email: "bob@example.com",
		Numbers: []aircalltest.Number{{Digits: "+33 1 76 36 06 95"}, {Digits: "+1 415 555 0100"}}})
	c := newClient(t, sim)
	got, err := c.Users.Get(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "bob@example.com" || len(got.Numbers) != 2 || got.Numbers[0].ID != u.Numbers[0].ID {
		t.Fatalf("got %+v", got)
	}
	if e := got.Numbers[0].E164(); e != "+33176360695" {
		t.Errorf("E164() = %q", e)
	}
	if _, err := c.Users.Get(t.Context(), 999999); !errors.Is(err, telephony.ErrNotFound) {
		t.Errorf("unknown user: err = %v, want ErrNotFound", err)
	}
	before := sim.Count("", "")
	if _, err := c.Users.Get(t.Context(), 0); !errors.Is(err, telephony.ErrInvalidRequest) || sim.Count("", "") != before {
		t.Errorf("id 0: err = %v (want ErrInvalidRequest and nothing sent)", err)
	}
}

func TestUsersStartCall(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	c := newClient(t, sim)
	err := c.Users.StartCall(t.Context(), u.ID, aircall.StartCallRequest{NumberID: u.Numbers[0].ID, To: "+14155550199"})
	if err != nil {
		t.Fatal(err)
	}
	started := sim.StartedCalls()
	if len(started) != 1 || started[0].UserID != u.ID || started[0].NumberID != u.Numbers[0].ID || started[0].To != "+14155550199" {
		t.Fatalf("started = %+v", started)
	}
	// A number that is not the user's: Aircall's 400.
	err = c.Users.StartCall(t.Context(), u.ID, aircall.StartCallRequest{NumberID: 1, To: "+14155550199"})
	if !errors.Is(err, telephony.ErrInvalidRequest) {
		t.Errorf("foreign number: err = %v", err)
	}
	// Invalid input never leaves the process.
	before := sim.Count("POST", "")
	for _, req := range []aircall.StartCallRequest{{NumberID: u.Numbers[0].ID, To: "0415550199"}, {To: "+14155550199"}} {
		if err := c.Users.StartCall(t.Context(), u.ID, req); !errors.Is(err, telephony.ErrInvalidRequest) {
			t.Errorf("%+v: err = %v, want ErrInvalidRequest", req, err)
		}
	}
	if sim.Count("POST", "") != before {
		t.Error("an invalid StartCall was sent")
	}
}

func TestCallsGet(t *testing.T) {
	sim := newSim(t)
	id := sim.CreateInboundCall("+33 6 12 34 56 78", "+1 415 555 0100")
	c := newClient(t, sim)
	call, err := c.Calls.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if call.ID != id || call.Direction != "inbound" || call.Status != aircall.CallStatusInitial ||
		call.RawDigits != "+33 6 12 34 56 78" || call.Number == nil || call.Number.Digits != "+1 415 555 0100" || !call.Transferable() {
		t.Fatalf("call = %+v", call)
	}
	if err := sim.HangUp(id); err == nil {
		t.Error("HangUp without a webhook should report that nothing received the events")
	}
	call, err = c.Calls.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if call.Transferable() || call.Status != aircall.CallStatusDone {
		t.Errorf("ended call still transferable: %+v", call)
	}
	if _, err := c.Calls.Get(t.Context(), 424242); !errors.Is(err, telephony.ErrNotFound) {
		t.Errorf("unknown call: err = %v", err)
	}
}

func TestCallsTransferValidatesBeforeSending(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	c := newClient(t, sim)
	bad := []aircall.TransferRequest{
		{},
		{UserID: u.ID, TeamID: 7},
		{UserID: u.ID, Number: "+14155550123"},
		{UserID: u.ID, DispatchingStrategy: "random"},
		{Number: "+14155550123", DispatchingStrategy: "random"},
		{Number: "415 555"},
		{UserID: -1},
	}
	for _, req := range bad {
		if err := c.Calls.Transfer(t.Context(), id, req); !errors.Is(err, telephony.ErrInvalidRequest) {
			t.Errorf("%+v: err = %v, want ErrInvalidRequest", req, err)
		}
	}
	if err := c.Calls.Transfer(t.Context(), 0, aircall.TransferRequest{UserID: u.ID}); !errors.Is(err, telephony.ErrInvalidRequest) {
		t.Errorf("call id 0: err = %v", err)
	}
	if n := sim.Count("POST", ""); n != 0 {
		t.Fatalf("invalid transfers sent %d requests, want 0", n)
	}

	team := sim.AddTeam("Support", u.ID)
	good := []aircall.TransferRequest{
		{UserID: u.ID},
		{TeamID: team.ID, DispatchingStrategy: "longest_idle"},
		{Number: "+14155550123"},
	}
	for _, req := range good {
		if err := c.Calls.Transfer(t.Context(), id, req); err != nil {
			t.Errorf("%+v: %v", req, err)
		}
	}
	got := sim.Transfers()
	want := []aircalltest.Transfer{
		{CallID: id, UserID: u.ID},
		{CallID: id, TeamID: team.ID, DispatchingStrategy: "longest_idle"},
		{CallID: id, Number: "+14155550123"},
	}
	if len(got) != len(want) {
		t.Fatalf("transfers = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("transfer %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// To an unknown user: Aircall's 404.
	if err := c.Calls.Transfer(t.Context(), id, aircall.TransferRequest{UserID: 31337}); !errors.Is(err, telephony.ErrNotFound) {
		t.Errorf("unknown user: err = %v", err)
	}
}
