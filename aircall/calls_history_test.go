package aircall_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// historySim seeds a history: agent users[0] took two calls from
// +14155550100 (an hour and a day ago), users[1] one from +442071838750,
// nobody answered a third from +14155550100, and users[0] called
// +14155550100 back.
func historySim(t *testing.T) (*aircalltest.Server, []aircalltest.User, time.Time) {
	t.Helper()
	sim := newSim(t)
	users := sim.SeedUsers(2)
	now := time.Now().Truncate(time.Second)
	line := users[0].Numbers[0].ID
	sim.AddCall(aircalltest.Call{RawDigits: "+1 415-555-0100", NumberID: line, UserID: users[0].ID, StartedAt: now.Add(-24 * time.Hour).Unix()})
	sim.AddCall(aircalltest.Call{RawDigits: "+442071838750", NumberID: line, UserID: users[1].ID, StartedAt: now.Add(-3 * time.Hour).Unix()})
	sim.AddCall(aircalltest.Call{RawDigits: "+14155550100", NumberID: line, UserID: users[0].ID, StartedAt: now.Add(-time.Hour).Unix()})
	sim.AddCall(aircalltest.Call{RawDigits: "+14155550100", NumberID: line, StartedAt: now.Add(-30 * time.Minute).Unix()})
	sim.AddCall(aircalltest.Call{Direction: "outbound", RawDigits: "+14155550100", NumberID: line, UserID: users[0].ID, StartedAt: now.Add(-10 * time.Minute).Unix()})
	return sim, users, now
}

func TestCallsSearchFilters(t *testing.T) {
	sim, users, now := historySim(t)
	c := newClient(t, sim)
	var got []aircall.Call
	for call, err := range c.Calls.Search(t.Context(), aircall.SearchCallsOptions{
		ListOptions: aircall.ListOptions{PerPage: 1, Order: "desc", From: now.Add(-2 * time.Hour)},
		PhoneNumber: "+14155550100", Direction: "inbound",
	}) {
		require.NoError(t, err)
		got = append(got, call)
	}
	require.Len(t, got, 2, "two inbound calls from the number in the last two hours")
	assert.Zero(t, got[0].User, "newest first: the missed call")
	require.NotNil(t, got[1].User)
	assert.Equal(t, users[0].ID, got[1].User.ID)
	assert.Equal(t, 2, sim.Count("GET", "/v1/calls/search"), "one page per call at per_page=1")

	r := got[1].Record()
	assert.Equal(t, telephony.CallRecord{ID: strconv.FormatInt(got[1].ID, 10), Provider: "aircall",
		Direction: telephony.DirectionInbound, From: "+14155550100", To: "+14155000001",
		AgentID: strconv.FormatInt(users[0].ID, 10), AgentEmail: "agent1@example.com", Status: telephony.StatusCompleted,
		StartedAt: now.Add(-time.Hour).UTC(), AnsweredAt: now.Add(-time.Hour).UTC(), EndedAt: now.Add(-time.Hour + time.Minute).UTC(),
		Duration: time.Minute}, r)
	assert.Equal(t, telephony.StatusMissed, got[0].Record().Status)

	var byUser int
	for _, err := range c.Calls.Search(t.Context(), aircall.SearchCallsOptions{UserID: users[1].ID}) {
		require.NoError(t, err)
		byUser++
	}
	assert.Equal(t, 1, byUser, "user_id")
}

func TestCallsListPagesAndOrders(t *testing.T) {
	sim, _, _ := historySim(t)
	c := newClient(t, sim)
	var started []int64
	for call, err := range c.Calls.List(t.Context(), &aircall.ListOptions{PerPage: 2}) {
		require.NoError(t, err)
		started = append(started, call.StartedAt)
	}
	require.Len(t, started, 5)
	assert.IsIncreasing(t, started, "Aircall's default order: oldest first")
	assert.Equal(t, 3, sim.Count("GET", "/v1/calls"), "three pages of two")
}

func TestCallsSearchRefusesBadInput(t *testing.T) {
	sim, _, _ := historySim(t)
	c := newClient(t, sim)
	for _, o := range []aircall.SearchCallsOptions{
		{PhoneNumber: "415 555 0100"},
		{Direction: "sideways"},
		{UserID: -1},
		{ListOptions: aircall.ListOptions{PerPage: 51}},
	} {
		for _, err := range c.Calls.Search(t.Context(), o) {
			assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "%+v", o)
		}
	}
	assert.Zero(t, sim.Count("", "/v1/calls"), "nothing sent")
}

// The portable history searches by number, direction and agent on
// Aircall, newest first, and sends the parameters Aircall documents.
func TestPortableCallsAircall(t *testing.T) {
	sim, users, now := historySim(t)
	tc := newClient(t, sim).Telephony()
	assert.Equal(t, telephony.CallFilters{Number: true, Direction: true, AgentID: true, TimeRange: true}, tc.CallFilters())
	var got []telephony.CallRecord
	for r, err := range tc.Calls(t.Context(), telephony.CallQuery{Number: "+14155550100", Direction: telephony.DirectionInbound,
		AgentID: strconv.FormatInt(users[0].ID, 10), Since: now.Add(-48 * time.Hour), Until: now}) {
		require.NoError(t, err)
		got = append(got, r)
	}
	require.Len(t, got, 2)
	assert.True(t, got[0].StartedAt.After(got[1].StartedAt), "newest first")
	for _, r := range got {
		assert.True(t, r.Answered())
		assert.Equal(t, "+14155550100", r.Customer())
	}
	reqs := sim.Count("GET", "/v1/calls/search")
	assert.Equal(t, 1, reqs)

	var all int
	for _, err := range tc.Calls(t.Context(), telephony.CallQuery{}) {
		require.NoError(t, err)
		all++
	}
	assert.Equal(t, 5, all, "no filter: GET /v1/calls")

	for _, err := range tc.Calls(t.Context(), telephony.CallQuery{Number: "0100"}) {
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest)
	}
}

// A history read is retried after a 503; a bad agent id sends nothing.
func TestPortableCallsAircallRetriesAndRefuses(t *testing.T) {
	sim, _, now := historySim(t)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/calls/search", Status: 503})
	tc := newClient(t, sim).Telephony()
	n := 0
	for _, err := range tc.Calls(t.Context(), telephony.CallQuery{Number: "+14155550100", Direction: telephony.DirectionOutbound, Since: now.Add(-time.Hour), Until: now}) {
		require.NoError(t, err, "the 503 is retried")
		n++
	}
	assert.Equal(t, 1, n, "the call back")
	assert.Equal(t, 2, sim.Count("GET", "/v1/calls/search"), "a read is retried after a 503")
	var err error
	for _, e := range tc.Calls(t.Context(), telephony.CallQuery{AgentID: "nobody"}) {
		err = e
	}
	assert.True(t, errors.Is(err, telephony.ErrInvalidRequest), "%v", err)
	assert.Equal(t, 2, sim.Count("GET", "/v1/calls"), "nothing more sent")
}
