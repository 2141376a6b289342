package justcall_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// jcHistory seeds inbound calls: agent 1001 took +14155550100 a day and an
// hour ago, 1002 took +442071838750, and a later call from +14155550100
// was missed.
func jcHistory(t *testing.T) (*justcalltest.Server, time.Time) {
	t.Helper()
	sim := newSim(t)
	now := time.Now().UTC().Truncate(time.Second)
	line := "+14155550001"
	sim.AddCall(justcalltest.Call{From: "+14155550100", To: line, AgentID: 1001, StartedAt: now.Add(-24 * time.Hour), Duration: 90})
	sim.AddCall(justcalltest.Call{From: "+442071838750", To: line, AgentID: 1002, StartedAt: now.Add(-2 * time.Hour), Duration: 30})
	sim.AddCall(justcalltest.Call{From: "+14155550100", To: line, AgentID: 1001, StartedAt: now.Add(-time.Hour), Duration: 61})
	sim.AddCall(justcalltest.Call{From: "+14155550100", To: line, StartedAt: now.Add(-30 * time.Minute)})
	return sim, now
}

func TestListCallsFiltersAndPages(t *testing.T) {
	sim, now := jcHistory(t)
	c := newClient(t, sim)
	var got []justcall.CallDetails
	for d, err := range c.Calls.List(t.Context(), &justcall.ListCallsOptions{PerPage: 1, ContactNumber: "+14155550100",
		Direction: "Incoming", From: now.Add(-2 * time.Hour)}) {
		require.NoError(t, err)
		got = append(got, d)
	}
	require.Len(t, got, 2, "two calls from the number in the last two hours")
	assert.Equal(t, "Missed", got[0].Type, "newest first")
	assert.Equal(t, int64(1001), got[1].AgentID)
	assert.Equal(t, "agent1@example.com", got[1].AgentEmail)

	reqs := sim.Requests()
	q := reqs[len(reqs)-1].Query
	assert.Equal(t, "14155550100", q.Get("contact_number"), "the number with its country code, without '+'")
	assert.Equal(t, "Incoming", q.Get("call_direction"))
	assert.Equal(t, now.Add(-2*time.Hour).Format(justcall.DateTimeLayout), q.Get("from_datetime"), "UTC by default")
	assert.Equal(t, "datetime", q.Get("sort"))
	assert.Equal(t, "desc", q.Get("order"))
	assert.Equal(t, "1", q.Get("per_page"))

	r := got[1].Record()
	assert.Equal(t, telephony.CallRecord{ID: got[1].ID, Provider: "justcall", Direction: telephony.DirectionInbound,
		From: "+14155550100", To: "+14155550001", AgentID: "1001", AgentEmail: "agent1@example.com",
		Status: telephony.StatusCompleted, StartedAt: now.Add(-time.Hour), Duration: 61 * time.Second}, r)
	assert.True(t, r.Answered())
	assert.False(t, got[0].Record().Answered())
}

func TestListCallsZone(t *testing.T) {
	sim, now := jcHistory(t)
	c := newClient(t, sim)
	ny := time.FixedZone("UTC-5", -5*3600)
	for _, err := range c.Calls.List(t.Context(), &justcall.ListCallsOptions{From: now, Zone: ny}) {
		require.NoError(t, err)
	}
	reqs := sim.Requests()
	assert.Equal(t, now.In(ny).Format(justcall.DateTimeLayout), reqs[len(reqs)-1].Query.Get("from_datetime"), "written in the account's zone")
}

func TestListCallsRefusesBadInput(t *testing.T) {
	sim, _ := jcHistory(t)
	c := newClient(t, sim)
	for _, o := range []justcall.ListCallsOptions{
		{ContactNumber: "4155550100"}, {Direction: "up"}, {AgentID: -2}, {PerPage: 101}, {Order: "random"},
	} {
		for _, err := range c.Calls.List(t.Context(), &o) {
			assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "%+v", o)
		}
	}
	assert.Zero(t, sim.Count("GET", "/v2.1/calls"), "nothing sent")
}

// The portable history on JustCall: the number, direction and agent are
// sent; the time range is widened by the widest zone offsets and kept
// exactly here.
func TestPortableCallsJustCall(t *testing.T) {
	sim, now := jcHistory(t)
	tc := newClient(t, sim).Telephony()
	assert.Equal(t, telephony.CallFilters{Number: true, Direction: true, AgentID: true}, tc.CallFilters())
	var got []telephony.CallRecord
	for r, err := range tc.Calls(t.Context(), telephony.CallQuery{Number: "+14155550100", Direction: telephony.DirectionInbound,
		AgentID: "1001", Since: now.Add(-2 * time.Hour), Until: now}) {
		require.NoError(t, err)
		got = append(got, r)
	}
	require.Len(t, got, 1, "the day-old call is outside the range")
	assert.Equal(t, now.Add(-time.Hour), got[0].StartedAt)
	reqs := sim.Requests()
	q := reqs[len(reqs)-1].Query
	assert.Equal(t, "1001", q.Get("agent_id"))
	assert.Equal(t, now.Add(-14*time.Hour).Format(justcall.DateTimeLayout), q.Get("from_datetime"), "Since - 12h, read as UTC")
	assert.Equal(t, now.Add(14*time.Hour).Format(justcall.DateTimeLayout), q.Get("to_datetime"), "Until + 14h")
}

// If JustCall numbered call pages from 1, page 0 would be page 1 again:
// each call is still yielded once, and the walk goes on to the end.
func TestListCallsOneBasedPagesYieldEachCallOnce(t *testing.T) {
	sim, _ := jcHistory(t)
	target, err := url.Parse(sim.URL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	oneBased := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
			q.Set("page", strconv.Itoa(n-1)) // 1-based: page 1 is the simulator's page 0
			r.URL.RawQuery = q.Encode()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(oneBased.Close)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(oneBased.URL))
	require.NoError(t, err)
	var ids []string
	for d, err := range c.Calls.List(t.Context(), &justcall.ListCallsOptions{PerPage: 2}) {
		require.NoError(t, err)
		ids = append(ids, d.ID)
	}
	assert.Len(t, ids, 4, "four calls, none twice: %v", ids)
}
