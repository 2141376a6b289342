package justcall_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// TestRateLimitHeadersStopTheClient: once X-Rate-Limit-Burst-Remaining
// reaches 0 (and the Burst-Limit header lowered the client's limiter), the
// client does not send again before the reset; a wait longer than the
// maximum retry wait (30 s) fails at once with ErrRateLimited and the wait.
func TestRateLimitHeadersStopTheClient(t *testing.T) {
	sim := newSim(t)
	sim.SetRateLimit(2, 1800)
	c := newClient(t, sim)
	req := justcall.MakeCallRequest{From: from, To: customer}
	for i := 0; i < 2; i++ {
		_, err := c.Calls.Make(t.Context(), req)
		require.NoError(t, err, "call %d", i+1)
	}
	start := time.Now()
	_, err := c.Calls.Make(context.Background(), req)
	var te *telephony.Error
	require.ErrorAs(t, err, &te)
	t.Logf("rate limit 2/min: third call failed after %v without sending; retry after %v; requests seen=%d",
		time.Since(start).Round(time.Millisecond), te.RetryAfter.Round(time.Second), sim.Count("POST", "/v2/calls/make"))
	require.ErrorIs(t, err, telephony.ErrRateLimited)
	waited := time.Since(start)
	assert.LessOrEqual(t, waited, time.Second, "waited %v instead of failing fast", waited)
	assert.Equal(t, 2, sim.Count("POST", "/v2/calls/make"), "requests seen")
	assert.GreaterOrEqual(t, te.RetryAfter, 30*time.Second, "RetryAfter, want the wait until the reset")
}

// TestSimulatorRateLimit checks the simulator's 429 and headers on the wire.
func TestSimulatorRateLimit(t *testing.T) {
	sim := newSim(t)
	sim.SetRateLimit(1, 1800)
	get := func() *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", sim.URL()+"/v2.1/users", nil)
		req.Header.Set("Authorization", justcalltest.APIKey+":"+justcalltest.APISecret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	r1, r2 := get(), get()
	assert.Equal(t, []int{200, 429}, []int{r1.StatusCode, r2.StatusCode}, "statuses")
	h := r2.Header
	assert.Equal(t, []string{"1", "0", "1800", "1799"},
		[]string{h.Get("X-Rate-Limit-Burst-Limit"), h.Get("X-Rate-Limit-Burst-Remaining"), h.Get("X-Rate-Limit-Limit"), h.Get("X-Rate-Limit-Remaining")}, "headers")
	reset, err := strconv.ParseInt(h.Get("X-Rate-Limit-Burst-Reset"), 10, 64)
	require.NoError(t, err)
	d := time.Until(time.Unix(reset, 0))
	assert.GreaterOrEqual(t, d, 50*time.Second, "burst reset %v from now, want about a minute (UTC epoch seconds)", d)
	assert.LessOrEqual(t, d, 61*time.Second, "burst reset %v from now, want about a minute (UTC epoch seconds)", d)
	http.DefaultClient.CloseIdleConnections()
}
