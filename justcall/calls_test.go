package justcall_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

const (
	from     = "+14155550001" // Agent 1's number in SeedUsers
	customer = "+14155559876"
)

func TestMakeWire(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{
		From: from, To: customer, AgentID: 1002, CallerID: "+14155550002",
	})
	require.NoError(t, err)
	assert.Equal(t, &justcall.Call{CallID: "call_00000001", From: from, To: customer, AgentID: 1002,
		Direction: "outbound", Status: "ringing"}, call, "call")

	reqs := sim.Requests()
	require.Len(t, reqs, 1, "requests")
	r := reqs[0]
	assert.Equal(t, "POST /v2/calls/make", r.Method+" "+r.Path, "route")
	assert.Equal(t, justcalltest.APIKey+":"+justcalltest.APISecret, r.Header.Get("Authorization"), "Authorization is the raw key:secret")
	assert.Equal(t, "application/json", r.Header.Get("Accept"), "Accept")
	assert.Empty(t, r.Header.Get("Idempotency-Key"), "no Idempotency-Key (R2)")
	var body map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &body))
	assert.Equal(t, map[string]any{"from": from, "to": customer, "agent_id": 1002.0, "caller_id": "+14155550002"}, body, "body")
}

func TestMakeOmitsOptionalFields(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer})
	require.NoError(t, err)
	assert.Equal(t, int64(1001), call.AgentID, "agent defaults to the number's owner")
	var body map[string]any
	require.NoError(t, json.Unmarshal(sim.Requests()[0].Body, &body))
	assert.Equal(t, map[string]any{"from": from, "to": customer}, body, "body")
}

func TestMakeValidatesBeforeSending(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	for name, req := range map[string]justcall.MakeCallRequest{
		"no from":       {To: customer},
		"no to":         {From: from},
		"from not E164": {From: "4155550001", To: customer},
		"to with dash":  {From: from, To: "+1-415-555-9876"},
		"bad caller id": {From: from, To: customer, CallerID: "private"},
		"negative id":   {From: from, To: customer, AgentID: -1},
		"relative cb":   {From: from, To: customer, CallbackURL: "/cb"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Calls.Make(t.Context(), req)
			assert.ErrorIs(t, err, telephony.ErrInvalidRequest)
		})
	}
	assert.Zero(t, sim.Count("", "/"), "requests sent")
}

// TestMakeErrorTable covers every row of the seed's error table.
func TestMakeErrorTable(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	req := justcall.MakeCallRequest{From: from, To: customer}

	check := func(t *testing.T, err error, kind error, status int, msg string) {
		t.Helper()
		require.ErrorIs(t, err, kind)
		var te *telephony.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, status, te.StatusCode, "status")
		assert.Contains(t, te.Message, msg, "the message does not keep JustCall's")
	}

	t.Run("400", func(t *testing.T) {
		sim.InjectFault(justcalltest.Fault{Method: "POST", Path: "/v2/calls/make", Status: 400})
		_, err := c.Calls.Make(t.Context(), req)
		check(t, err, telephony.ErrInvalidRequest, 400, "Missing required field")
	})
	t.Run("401", func(t *testing.T) {
		bad, err := justcall.New("wrong", "secret-that-must-not-leak", telephony.WithBaseURL(sim.URL()))
		require.NoError(t, err)
		_, err = bad.Calls.Make(t.Context(), req)
		check(t, err, telephony.ErrUnauthorized, 401, "Invalid credentials")
		assert.NotContains(t, err.Error(), "secret-that-must-not-leak", "the secret leaked into the error")
	})
	t.Run("404", func(t *testing.T) {
		_, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: "+14155550999", To: customer})
		check(t, err, telephony.ErrNotFound, 404, "from number not found in your account")
	})
	t.Run("429", func(t *testing.T) {
		before := sim.Count("POST", "/v2/calls/make")
		sim.InjectFault(justcalltest.Fault{Method: "POST", Path: "/v2/calls/make", Status: 429, Times: 3, RetryAfter: "0"})
		_, err := c.Calls.Make(t.Context(), req)
		check(t, err, telephony.ErrRateLimited, 429, "Rate limit exceeded")
		n := sim.Count("POST", "/v2/calls/make") - before
		t.Logf("429 persisting: requests seen=%d (MaxAttempts 3)", n)
		assert.Equal(t, 3, n, "requests")
	})
	assert.Empty(t, sim.Calls(), "calls placed by failed requests")
}

// TestMakeR1 prints reliability.md R1's figures: server-side requests per
// logical Calls.Make under each fault.
func TestMakeR1(t *testing.T) {
	req := justcall.MakeCallRequest{From: from, To: customer}
	const route = "/v2/calls/make"

	t.Run("reset-after-body", func(t *testing.T) {
		sim := newSim(t)
		c := newClient(t, sim)
		sim.InjectFault(justcalltest.Fault{Method: "POST", Path: route, ResetAfterBody: true, Times: 5})
		_, err := c.Calls.Make(t.Context(), req)
		n := sim.Count("POST", route)
		t.Logf("R1 reset-after-body: requests seen=%d err=%v", n, err)
		assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown)
		assert.Equal(t, 1, n, "requests seen")
	})
	t.Run("503x5", func(t *testing.T) {
		sim := newSim(t)
		c := newClient(t, sim)
		sim.InjectFault(justcalltest.Fault{Method: "POST", Path: route, Status: 503, Times: 5})
		_, err := c.Calls.Make(t.Context(), req)
		n := sim.Count("POST", route)
		t.Logf("R1 503x5: requests seen=%d err=%v", n, err)
		require.ErrorIs(t, err, telephony.ErrOutcomeUnknown)
		var te *telephony.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 503, te.StatusCode, "status")
		assert.Equal(t, 1, n, "requests seen")
	})
	t.Run("client-timeout", func(t *testing.T) {
		sim := newSim(t)
		c := newClient(t, sim, telephony.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
		// The delayed answer is a 503, so that a starved test process in
		// which the server's timer wins the race still ends in the same
		// outcome: one request, ErrOutcomeUnknown.
		sim.InjectFault(justcalltest.Fault{Method: "POST", Path: route, Delay: 150 * time.Millisecond, Status: 503, Times: 5})
		start := time.Now()
		_, err := c.Calls.Make(t.Context(), req)
		n := sim.Count("POST", route)
		t.Logf("R1 client timeout 50ms vs 150ms delay: requests seen=%d after %v timeout fired=%v err=%v", n,
			time.Since(start).Round(time.Millisecond), strings.Contains(fmt.Sprint(err), "Client.Timeout"), err)
		assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown)
		assert.Equal(t, 1, n, "requests seen")
	})
	t.Run("429,429,200", func(t *testing.T) {
		sim := newSim(t)
		c := newClient(t, sim)
		sim.InjectFault(justcalltest.Fault{Method: "POST", Path: route, Status: 429, Times: 2, RetryAfter: "0"})
		call, err := c.Calls.Make(t.Context(), req)
		n := sim.Count("POST", route)
		t.Logf("R1 429,429,200: requests seen=%d success=%v calls placed=%d", n, err == nil, len(sim.Calls()))
		require.NoError(t, err)
		assert.Equal(t, "call_00000001", call.CallID, "call id")
		assert.Equal(t, 3, n, "requests seen")
		assert.Len(t, sim.Calls(), 1, "calls placed")
	})
	t.Run("429-reset-header", func(t *testing.T) {
		sim := newSim(t)
		c := newClient(t, sim)
		// No Retry-After: the simulator sends Burst-Remaining 0 and a
		// reset at most a second away, as JustCall does.
		sim.InjectFault(justcalltest.Fault{Method: "POST", Path: route, Status: 429})
		start := time.Now()
		_, err := c.Calls.Make(t.Context(), req)
		waited := time.Since(start)
		n := sim.Count("POST", route)
		t.Logf("R1 429 with X-Rate-Limit-Burst-Reset: requests seen=%d waited=%v", n, waited.Round(time.Millisecond))
		require.NoError(t, err)
		assert.Equal(t, 2, n, "requests seen")
		assert.LessOrEqual(t, waited, 5*time.Second, "waited %v for a reset a second away", waited)
	})
	t.Run("connection-refused", func(t *testing.T) {
		sim := justcalltest.NewServer()
		base := sim.URL()
		sim.Close()
		c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(base),
			telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
		require.NoError(t, err)
		_, err = c.Calls.Make(t.Context(), req)
		var te *telephony.Error
		require.ErrorAs(t, err, &te)
		t.Logf("R1 connection refused: requests reached=%d attempts=%d err=%v", sim.Count("", "/"), te.Attempts, err)
		assert.ErrorIs(t, err, telephony.ErrUnavailable)
		assert.ErrorContains(t, err, "no request reached the provider", "the error does not say nothing was sent")
		assert.Zero(t, sim.Count("", "/"), "requests reached")
		assert.Equal(t, 3, te.Attempts, "attempts (nothing written, so retried up to MaxAttempts)")
	})
}

func TestMakeAddsCallbackToken(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	tok, err := justcall.NewCallbackToken()
	require.NoError(t, err)
	require.NoError(t, c.SetCallbackToken(tok))
	assert.ErrorIs(t, c.SetCallbackToken("short"), telephony.ErrInvalidRequest)
	// Port 1 on loopback: the simulator's callbacks fail fast, harmlessly.
	_, err = c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: from, To: customer, CallbackURL: "http://127.0.0.1:1/cb?a=b"})
	require.NoError(t, err)
	var body struct {
		CallbackURL string `json:"callback_url"`
	}
	require.NoError(t, json.Unmarshal(sim.Requests()[0].Body, &body))
	assert.Equal(t, "http://127.0.0.1:1/cb?a=b&sb_token="+tok, body.CallbackURL, "callback_url")
}
