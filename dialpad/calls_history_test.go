package dialpad_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// dpHistory seeds ended calls: ann took +14155550100 a day and an hour
// ago, bob took +442071838750, a later call from +14155550100 was missed,
// and ann called +14155550100 back.
func dpHistory(t *testing.T) (*dialpad.Client, *dialpadtest.Server, []dialpadtest.User, time.Time) {
	t.Helper()
	c, sim := newTestClient(t)
	ann := sim.AddUser(dialpadtest.User{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"})
	bob := sim.AddUser(dialpadtest.User{FirstName: "Bob", LastName: "Stone", Email: "bob@example.com"})
	now := time.Now().Truncate(time.Millisecond)
	line := "+14155550001"
	add := func(dir, ext string, user int64, ago time.Duration) {
		call := dialpadtest.Call{Direction: dir, ExternalNumber: ext, InternalNumber: line, Started: now.Add(-ago)}
		if user != 0 {
			call.TargetID, call.TargetType, call.Connected = user, "user", now.Add(-ago)
		} else {
			call.TargetID, call.TargetType, call.State = 9000, "callcenter", "missed"
		}
		sim.AddEndedCall(call)
	}
	add("inbound", "+14155550100", ann.ID, 24*time.Hour)
	add("inbound", "+442071838750", bob.ID, 2*time.Hour)
	add("inbound", "+14155550100", ann.ID, time.Hour)
	add("inbound", "+14155550100", 0, 30*time.Minute)
	add("outbound", "+14155550100", ann.ID, 10*time.Minute)
	return c, sim, []dialpadtest.User{ann, bob}, now
}

func lastQuery(t *testing.T, sim *dialpadtest.Server) url.Values {
	t.Helper()
	reqs := sim.Requests()
	require.NotEmpty(t, reqs)
	q, err := url.ParseQuery(reqs[len(reqs)-1].Query)
	require.NoError(t, err)
	return q
}

func TestCallsListTimeAndTarget(t *testing.T) {
	c, sim, users, now := dpHistory(t)
	sim.SetPageSize(1)
	var got []dialpad.CallEvent
	for e, err := range c.Calls.List(t.Context(), &dialpad.ListCallsOptions{StartedAfter: now.Add(-3 * time.Hour),
		TargetID: users[0].ID, TargetType: "user"}) {
		require.NoError(t, err)
		got = append(got, e)
	}
	require.Len(t, got, 2, "ann's two calls in the last three hours")
	assert.Equal(t, "outbound", got[0].Direction, "newest first")
	assert.Equal(t, 2, sim.Count("GET", "/api/v2/call"), "two pages of one, by cursor")
	q := lastQuery(t, sim)
	assert.Equal(t, strconv.FormatInt(now.Add(-3*time.Hour).UnixMilli(), 10), q.Get("started_after"), "ms since the epoch")
	assert.Equal(t, "user", q.Get("target_type"))
	assert.NotEmpty(t, q.Get("cursor"))

	r := got[1].Record()
	assert.Equal(t, telephony.CallRecord{ID: strconv.FormatInt(got[1].CallID, 10), Provider: "dialpad",
		Direction: telephony.DirectionInbound, From: "+14155550100", To: "+14155550001",
		AgentID: strconv.FormatInt(users[0].ID, 10), AgentEmail: "ann@example.com", Status: telephony.StatusCompleted,
		StartedAt: now.Add(-time.Hour).UTC(), AnsweredAt: now.Add(-time.Hour).UTC(), EndedAt: now.Add(-time.Hour + time.Minute).UTC(),
		Duration: time.Minute}, r)

	for _, o := range []dialpad.ListCallsOptions{{TargetID: 5}, {TargetType: "user"}, {TargetID: 5, TargetType: "planet"}} {
		for _, err := range c.Calls.List(t.Context(), &o) {
			assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "%+v", o)
		}
	}
}

func TestCallsGet(t *testing.T) {
	c, sim, users, _ := dpHistory(t)
	calls := sim.Calls()
	e, err := c.Calls.Get(t.Context(), calls[0].ID)
	require.NoError(t, err)
	assert.Equal(t, calls[0].ID, e.CallID, "string ids decode")
	require.NotNil(t, e.Target)
	assert.Equal(t, strconv.FormatInt(users[0].ID, 10), e.Target.ID)
	_, err = c.Calls.Get(t.Context(), 1)
	assert.ErrorIs(t, err, telephony.ErrNotFound)
	_, err = c.Calls.Get(t.Context(), 0)
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest)
}

// Dialpad allows 10 call reads a minute: the 11th fails at once when its
// slot is further than the deadline, and is not sent.
func TestCallsGetLimit(t *testing.T) {
	c, sim, _, _ := dpHistory(t)
	id := sim.Calls()[0].ID
	for range dialpad.CallGetsPerMinute {
		_, err := c.Calls.Get(t.Context(), id)
		require.NoError(t, err)
	}
	sent := sim.Count("GET", "/api/v2/call/")
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := c.Calls.Get(ctx, id)
	te := asTelephony(t, err)
	assert.ErrorIs(t, err, telephony.ErrRateLimited)
	assert.Greater(t, te.RetryAfter, time.Second)
	assert.Equal(t, sent, sim.Count("GET", "/api/v2/call/"), "not sent")
}

// The portable history on Dialpad: no search by number (ErrUnsupported,
// nothing sent); the agent is a user target; the direction is filtered
// here.
func TestPortableCallsDialpad(t *testing.T) {
	c, sim, users, now := dpHistory(t)
	tc := c.Telephony()
	assert.Equal(t, telephony.CallFilters{AgentID: true, TimeRange: true}, tc.CallFilters())
	for _, err := range tc.Calls(t.Context(), telephony.CallQuery{Number: "+14155550100"}) {
		assert.ErrorIs(t, err, telephony.ErrUnsupported)
	}
	assert.Zero(t, sim.Count("GET", "/api/v2/call"), "nothing sent")

	var got []telephony.CallRecord
	for r, err := range tc.Calls(t.Context(), telephony.CallQuery{Direction: telephony.DirectionInbound,
		AgentID: strconv.FormatInt(users[0].ID, 10), Since: now.Add(-48 * time.Hour)}) {
		require.NoError(t, err)
		got = append(got, r)
	}
	require.Len(t, got, 2, "ann's inbound calls; the outbound one is filtered out here")
	for _, r := range got {
		assert.Equal(t, "+14155550100", r.Customer())
		assert.True(t, r.Answered())
	}
	var missed int
	for r, err := range tc.Calls(t.Context(), telephony.CallQuery{}) {
		require.NoError(t, err)
		if r.Status == telephony.StatusMissed {
			missed++
		}
	}
	assert.Equal(t, 1, missed)
}
