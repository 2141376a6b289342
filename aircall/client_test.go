package aircall_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestNewRejectsBadCredentials(t *testing.T) {
	for _, tc := range []struct{ id, token string }{{"", "x"}, {"x", ""}, {"a:b", "x"}, {"a\n", "x"}} {
		_, err := aircall.New(tc.id, tc.token)
		assert.Error(t, err, "New(%q, %q): want an error", tc.id, tc.token)
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
	_, err := c.Users.Get(t.Context(), sim.Users()[0].ID)
	require.NoError(t, err)
	// base64("aircalltest-api-id:aircalltest-api-token")
	require.NotEmpty(t, rec.auths, "requests recorded")
	assert.Equal(t, "Basic YWlyY2FsbHRlc3QtYXBpLWlkOmFpcmNhbGx0ZXN0LWFwaS10b2tlbg==", rec.auths[0], "Authorization")
	for _, u := range rec.urls {
		assert.NotContains(t, u, aircalltest.APIToken, "credentials in URL %q", u)
		assert.NotContains(t, u, aircalltest.APIID, "credentials in URL %q", u)
		assert.NotContains(t, u, "@", "credentials in URL %q", u)
	}

	bad, err := aircall.New("someone", "wrong-token", telephony.WithBaseURL(sim.URL()))
	require.NoError(t, err)
	_, err = bad.Calls.Get(t.Context(), 1)
	require.ErrorIs(t, err, telephony.ErrUnauthorized, "wrong credentials")
	assert.NotContains(t, err.Error(), "wrong-token", "the token leaked into the error")
	// Aircall's {error, troubleshoot} body reaches the message.
	assert.ErrorContains(t, err, "Unauthorized — Check your API ID", "error lacks Aircall's message and troubleshoot text")
}

func TestUsersListFollowsNextPageLinks(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(120)
	c := newClient(t, sim)
	var got []aircall.User
	for u, err := range c.Users.List(t.Context(), nil) {
		require.NoError(t, err)
		got = append(got, u)
	}
	require.Len(t, got, 120, "listed users")
	assert.Equal(t, "agent1@example.com", got[0].Email, "first")
	assert.Equal(t, "agent120@example.com", got[119].Email, "last")
	assert.Equal(t, 3, sim.Count("GET", "/v1/users"), "GET /v1/users requests (50 a page)")

	// per_page 20 from page 2: pages 2..6 = 100 users.
	n := 0
	for _, err := range c.Users.List(t.Context(), &aircall.ListOptions{PerPage: 20, Page: 2}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 100, n, "users from page 2 with 20 a page")

	// Breaking out stops fetching.
	before := sim.Count("GET", "/v1/users")
	for range c.Users.List(t.Context(), &aircall.ListOptions{PerPage: 10}) {
		break
	}
	assert.Equal(t, 1, sim.Count("GET", "/v1/users")-before, "requests after a break after the first user")

	// A page larger than Aircall serves is refused before sending.
	before = sim.Count("", "")
	for _, err := range c.Users.List(t.Context(), &aircall.ListOptions{PerPage: 51}) {
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "PerPage 51")
	}
	assert.Equal(t, before, sim.Count("", ""), "PerPage 51 sent a request")
}

func TestUsersListStopsAtTheRecordCap(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(aircall.MaxListRecords + 50)
	c := newClient(t, sim)
	n := 0
	for _, err := range c.Users.List(t.Context(), nil) {
		require.NoError(t, err)
		n++
	}
	t.Logf("10,000-record cap: listed %d of %d users in %d requests", n, aircall.MaxListRecords+50, sim.Count("GET", "/v1/users"))
	assert.Equal(t, aircall.MaxListRecords, n, "listed, want the cap")
}

func TestUsersGetReturnsNumbers(t *testing.T) {
	sim := newSim(t)
	u := sim.AddUser(aircalltest.User{Name: "Bob", Email: "bob@example.com",
		Numbers: []aircalltest.Number{{Digits: "+33 1 76 36 06 95"}, {Digits: "+1 415 555 0100"}}})
	c := newClient(t, sim)
	got, err := c.Users.Get(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, "bob@example.com", got.Email, "got %+v", got)
	require.Len(t, got.Numbers, 2, "got %+v", got)
	assert.Equal(t, u.Numbers[0].ID, got.Numbers[0].ID, "got %+v", got)
	assert.Equal(t, "+33176360695", got.Numbers[0].E164(), "E164()")
	_, err = c.Users.Get(t.Context(), 999999)
	assert.ErrorIs(t, err, telephony.ErrNotFound, "unknown user")
	before := sim.Count("", "")
	_, err = c.Users.Get(t.Context(), 0)
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "id 0")
	assert.Equal(t, before, sim.Count("", ""), "id 0: requests sent")
}

func TestUsersStartCall(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	c := newClient(t, sim)
	err := c.Users.StartCall(t.Context(), u.ID, aircall.StartCallRequest{NumberID: u.Numbers[0].ID, To: "+14155550199"})
	require.NoError(t, err)
	started := sim.StartedCalls()
	require.Len(t, started, 1, "started = %+v", started)
	assert.Equal(t, u.ID, started[0].UserID, "started = %+v", started)
	assert.Equal(t, u.Numbers[0].ID, started[0].NumberID, "started = %+v", started)
	assert.Equal(t, "+14155550199", started[0].To, "started = %+v", started)
	// A number that is not the user's: Aircall's 400.
	err = c.Users.StartCall(t.Context(), u.ID, aircall.StartCallRequest{NumberID: 1, To: "+14155550199"})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "foreign number")
	// Invalid input never leaves the process.
	before := sim.Count("POST", "")
	for _, req := range []aircall.StartCallRequest{{NumberID: u.Numbers[0].ID, To: "0415550199"}, {To: "+14155550199"}} {
		err := c.Users.StartCall(t.Context(), u.ID, req)
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "%+v", req)
	}
	assert.Equal(t, before, sim.Count("POST", ""), "an invalid StartCall was sent")
}

func TestCallsGet(t *testing.T) {
	sim := newSim(t)
	id := sim.CreateInboundCall("+33 6 12 34 56 78", "+1 415 555 0100")
	c := newClient(t, sim)
	call, err := c.Calls.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, id, call.ID, "call = %+v", call)
	assert.Equal(t, "inbound", call.Direction, "call = %+v", call)
	assert.Equal(t, aircall.CallStatusInitial, call.Status, "call = %+v", call)
	assert.Equal(t, "+33 6 12 34 56 78", call.RawDigits, "call = %+v", call)
	if assert.NotNil(t, call.Number, "call = %+v", call) {
		assert.Equal(t, "+1 415 555 0100", call.Number.Digits, "call = %+v", call)
	}
	assert.True(t, call.Transferable(), "call = %+v", call)
	assert.Error(t, sim.HangUp(id), "HangUp without a webhook should report that nothing received the events")
	call, err = c.Calls.Get(t.Context(), id)
	require.NoError(t, err)
	assert.False(t, call.Transferable(), "ended call still transferable: %+v", call)
	assert.Equal(t, aircall.CallStatusDone, call.Status, "ended call: %+v", call)
	_, err = c.Calls.Get(t.Context(), 424242)
	assert.ErrorIs(t, err, telephony.ErrNotFound, "unknown call")
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
		err := c.Calls.Transfer(t.Context(), id, req)
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "%+v", req)
	}
	err := c.Calls.Transfer(t.Context(), 0, aircall.TransferRequest{UserID: u.ID})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "call id 0")
	require.Zero(t, sim.Count("POST", ""), "requests sent by invalid transfers")

	team := sim.AddTeam("Support", u.ID)
	good := []aircall.TransferRequest{
		{UserID: u.ID},
		{TeamID: team.ID, DispatchingStrategy: "longest_idle"},
		{Number: "+14155550123"},
	}
	for _, req := range good {
		assert.NoError(t, c.Calls.Transfer(t.Context(), id, req), "%+v", req)
	}
	got := sim.Transfers()
	want := []aircalltest.Transfer{
		{CallID: id, UserID: u.ID},
		{CallID: id, TeamID: team.ID, DispatchingStrategy: "longest_idle"},
		{CallID: id, Number: "+14155550123"},
	}
	require.Len(t, got, len(want), "transfers = %+v", got)
	for i := range want {
		assert.Equal(t, want[i], got[i], "transfer %d", i)
	}
	// To an unknown user: Aircall's 404.
	err = c.Calls.Transfer(t.Context(), id, aircall.TransferRequest{UserID: 31337})
	assert.ErrorIs(t, err, telephony.ErrNotFound, "unknown user")
}
