package aircall_test

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
)

// pageRequests counts the requests to paths under prefix, leaving out the
// availability pages the portable Users reads beside the user pages.
func pageRequests(sim *aircalltest.Server, method, prefix string) int {
	return sim.Count(method, prefix) - sim.Count(method, "/v1/users/availabilities")
}

// TestPortableAvailableMeansFree: the portable User.Available says whether
// the agent can take a call now (Aircall's availability endpoint), not the
// status the agent chose: an agent who chose "available" but is on a call,
// or whom Aircall reports in do-not-disturb, is not available.
func TestPortableAvailableMeansFree(t *testing.T) {
	sim := newSim(t)
	users := sim.SeedUsers(4) // all chose "available"
	require.NoError(t, sim.SetAvailability(users[2].ID, aircalltest.AvailabilityDoNotDisturb))
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hook.Close)
	sim.SetWebhook(hook.URL, hookToken)
	callID := sim.CreateInboundCall("+33612345678", "+1 415 500 0001")
	require.NoError(t, sim.AnswerCall(callID, users[1].ID))

	c := newClient(t, sim)
	got := map[string]bool{}
	for u, err := range c.Telephony().Users(t.Context()) {
		require.NoError(t, err)
		got[u.Email] = u.Available
	}
	assert.Equal(t, map[string]bool{
		users[0].Email: true,
		users[1].Email: false, // in_call
		users[2].Email: false, // do_not_disturb
		users[3].Email: true,
	}, got)
	t.Logf("portable Users: %d user page(s), %d availability page(s)",
		pageRequests(sim, http.MethodGet, "/v1/users"), sim.Count(http.MethodGet, "/v1/users/availabilities"))

	native, err := c.Users.Get(t.Context(), users[1].ID)
	require.NoError(t, err)
	assert.Equal(t, "available", native.AvailabilityStatus, "the chosen status is unchanged")

	a, err := c.Users.GetAvailability(t.Context(), users[1].ID)
	require.NoError(t, err)
	assert.Equal(t, aircall.Availability{UserID: users[1].ID, Availability: aircall.AvailabilityInCall}, *a)
	assert.False(t, a.Free())

	require.NoError(t, sim.HangUp(callID))
	a, err = c.Users.GetAvailability(t.Context(), users[1].ID)
	require.NoError(t, err)
	assert.True(t, a.Free(), "free again after the call")

	_, err = c.Users.GetAvailability(t.Context(), 999999)
	assert.Error(t, err)
}

// TestAvailabilitiesPaged: GET /v1/users/availabilities follows Aircall's
// pagination.
func TestAvailabilitiesPaged(t *testing.T) {
	sim := newSim(t)
	users := sim.SeedUsers(7)
	c := newClient(t, sim)
	var ids []int64
	for a, err := range c.Users.Availabilities(t.Context(), &aircall.ListOptions{PerPage: 3}) {
		require.NoError(t, err)
		assert.True(t, a.Free())
		ids = append(ids, a.UserID)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	want := make([]int64, 0, len(users))
	for _, u := range users {
		want = append(want, u.ID)
	}
	assert.Equal(t, want, ids)
	assert.Equal(t, 3, sim.Count(http.MethodGet, "/v1/users/availabilities"), "7 availabilities in pages of 3")
}

// TestTeams: the teams the simulator serves, listed and read.
func TestTeams(t *testing.T) {
	sim := newSim(t)
	users := sim.SeedUsers(3)
	sales := sim.AddTeam("Sales", users[0].ID, users[1].ID)
	support := sim.AddTeam("Support", users[2].ID)
	c := newClient(t, sim)

	var names []string
	for team, err := range c.Teams.List(t.Context(), &aircall.ListOptions{PerPage: 1}) {
		require.NoError(t, err)
		names = append(names, team.Name)
	}
	assert.Equal(t, []string{"Sales", "Support"}, names)
	assert.Equal(t, 2, sim.Count(http.MethodGet, "/v1/teams"), "two pages of one")

	got, err := c.Teams.Get(t.Context(), sales.ID)
	require.NoError(t, err)
	assert.Equal(t, sales.ID, got.ID)
	assert.Equal(t, "Sales", got.Name)
	require.Len(t, got.Users, 2)
	assert.Equal(t, []string{users[0].Email, users[1].Email}, []string{got.Users[0].Email, got.Users[1].Email})

	_, err = c.Teams.Get(t.Context(), support.ID+1000)
	require.Error(t, err)
	_, err = c.Teams.Get(t.Context(), 0)
	require.Error(t, err, "an id of 0 is refused before sending")
}
