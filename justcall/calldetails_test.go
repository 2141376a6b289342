package justcall_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestGetCallWire(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	placed, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer, AgentID: 1002})
	must(t, err)
	sim.Flush() // no callback_url: the call stays "ringing"

	got, err := c.Calls.Get(t.Context(), placed.CallID)
	must(t, err)
	raw := got.Raw
	got.Raw = nil
	eq(t, got, &justcall.CallDetails{
		ID: placed.CallID, CallSID: placed.CallID, ContactNumber: customer, JustCallNumber: from,
		AgentID: 1002, CallDate: "2024-03-21", CallTime: "17:08:22",
		CallUserDate: "2024-03-21", CallUserTime: "10:08:22",
		Direction: "Outgoing", Type: "Answered", Duration: 0,
	}, "call details")
	var obj, want map[string]any
	must(t, json.Unmarshal(raw, &obj))
	b, err := json.Marshal(sim.CallObject(placed.CallID))
	must(t, err)
	must(t, json.Unmarshal(b, &want))
	eq(t, obj, want, "Raw is the call object as sent")

	reqs := sim.Requests()
	r := reqs[len(reqs)-1]
	eq(t, r.Method+" "+r.Path, "GET /v2.1/calls/"+placed.CallID, "route")
	eq(t, r.Header.Get("Authorization"), justcalltest.APIKey+":"+justcalltest.APISecret, "Authorization")
	eq(t, len(r.Body), 0, "no body")
}

func TestGetCallCompletedDuration(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(sink.Close)
	placed, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer, CallbackURL: sink.URL})
	must(t, err)
	sim.Flush()
	got, err := c.Calls.Get(t.Context(), placed.CallID)
	must(t, err)
	eq(t, got.Duration, int64(justcalltest.CompletedDuration), "duration of a completed call")
	eq(t, got.Type, "Answered", "type")
}

func TestGetCallNotFound(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	_, err := c.Calls.Get(t.Context(), "178632100")
	wantIs(t, err, telephony.ErrNotFound)
	te := asError(t, err)
	eq(t, te.StatusCode, http.StatusNotFound, "status")
	eq(t, te.Message, "Call not found", "JustCall's message is kept")
	eq(t, te.Op, "GET /v2.1/calls/{id}", "op names the route, not the id")
	eq(t, sim.Count(http.MethodGet, "/v2.1/calls/"), 1, "a 404 is not retried")
}

func TestGetCallValidatesID(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	for _, id := range []string{"", "../users", "12/34", "a b", "12?x=1", "%2e%2e", string(make([]byte, 65))} {
		_, err := c.Calls.Get(t.Context(), id)
		wantIs(t, err, telephony.ErrInvalidRequest)
	}
	eq(t, sim.Count("", "/"), 0, "requests sent")
}

// TestGetCallRetriesReads: a read is resent after a 5xx, unlike Make.
func TestGetCallRetriesReads(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	placed, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer})
	must(t, err)
	sim.InjectFault(justcalltest.Fault{Method: http.MethodGet, Path: "/v2.1/calls/", Status: http.StatusBadGateway})
	got, err := c.Calls.Get(t.Context(), placed.CallID)
	must(t, err)
	n := sim.Count(http.MethodGet, "/v2.1/calls/")
	t.Logf("Calls.Get after one 502: requests seen=%d", n)
	eq(t, n, 2, "requests")
	eq(t, got.ID, placed.CallID, "id")
}
