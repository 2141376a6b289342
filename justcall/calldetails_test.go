package justcall_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestGetCallWire(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	placed, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer, AgentID: 1002})
	require.NoError(t, err)
	sim.Flush() // no callback_url: the call stays "ringing"

	got, err := c.Calls.Get(t.Context(), placed.CallID)
	require.NoError(t, err)
	raw := got.Raw
	got.Raw = nil
	assert.Equal(t, &justcall.CallDetails{
		ID: placed.CallID, CallSID: placed.CallID, ContactNumber: customer, JustCallNumber: from,
		AgentID: 1002, CallDate: "2024-03-21", CallTime: "17:08:22",
		CallUserDate: "2024-03-21", CallUserTime: "10:08:22",
		Direction: "Outgoing", Type: "Answered", Duration: 0,
	}, got, "call details")
	var obj, want map[string]any
	require.NoError(t, json.Unmarshal(raw, &obj))
	b, err := json.Marshal(sim.CallObject(placed.CallID))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &want))
	assert.Equal(t, want, obj, "Raw is the call object as sent")

	reqs := sim.Requests()
	r := reqs[len(reqs)-1]
	assert.Equal(t, "GET /v2.1/calls/"+placed.CallID, r.Method+" "+r.Path, "route")
	assert.Equal(t, justcalltest.APIKey+":"+justcalltest.APISecret, r.Header.Get("Authorization"), "Authorization")
	assert.Empty(t, r.Body, "no body")
}

func TestGetCallCompletedDuration(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(sink.Close)
	placed, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer, CallbackURL: sink.URL})
	require.NoError(t, err)
	sim.Flush()
	got, err := c.Calls.Get(t.Context(), placed.CallID)
	require.NoError(t, err)
	assert.Equal(t, int64(justcalltest.CompletedDuration), got.Duration, "duration of a completed call")
	assert.Equal(t, "Answered", got.Type, "type")
}

func TestGetCallNotFound(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	_, err := c.Calls.Get(t.Context(), "178632100")
	require.ErrorIs(t, err, telephony.ErrNotFound)
	var te *telephony.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusNotFound, te.StatusCode, "status")
	assert.Equal(t, "Call not found", te.Message, "JustCall's message is kept")
	assert.Equal(t, "GET /v2.1/calls/{id}", te.Op, "op names the route, not the id")
	assert.Equal(t, 1, sim.Count(http.MethodGet, "/v2.1/calls/"), "a 404 is not retried")
}

func TestGetCallValidatesID(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	for _, id := range []string{"", "../users", "12/34", "a b", "12?x=1", "%2e%2e", string(make([]byte, 65))} {
		_, err := c.Calls.Get(t.Context(), id)
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "id %q", id)
	}
	assert.Zero(t, sim.Count("", "/"), "requests sent")
}

// TestGetCallRetriesReads: a read is resent after a 5xx, unlike Make.
func TestGetCallRetriesReads(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	placed, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer})
	require.NoError(t, err)
	sim.InjectFault(justcalltest.Fault{Method: http.MethodGet, Path: "/v2.1/calls/", Status: http.StatusBadGateway})
	got, err := c.Calls.Get(t.Context(), placed.CallID)
	require.NoError(t, err)
	n := sim.Count(http.MethodGet, "/v2.1/calls/")
	t.Logf("Calls.Get after one 502: requests seen=%d", n)
	assert.Equal(t, 2, n, "requests")
	assert.Equal(t, placed.CallID, got.ID, "id")
}
