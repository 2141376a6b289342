package justcall_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

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
		must(t, err)
	}
	start := time.Now()
	_, err := c.Calls.Make(context.Background(), req)
	te := asError(t, err)
	t.Logf("rate limit 2/min: third call failed after %v without sending; retry after %v; requests seen=%d",
		time.Since(start).Round(time.Millisecond), te.RetryAfter.Round(time.Second), sim.Count("POST", "/v2/calls/make"))
	wantIs(t, err, telephony.ErrRateLimited)
	if time.Since(start) > time.Second {
		t.Errorf("waited %v instead of failing fast", time.Since(start))
	}
	eq(t, sim.Count("POST", "/v2/calls/make"), 2, "requests seen")
	if te.RetryAfter < 30*time.Second {
		t.Errorf("RetryAfter %v, want the wait until the reset", te.RetryAfter)
	}
}

// TestSimulatorRateLimit checks the simulator's 429 and headers on the wire.
func TestSimulatorRateLimit(t *testing.T) {
	sim := newSim(t)
	sim.SetRateLimit(1, 1800)
	get := func() *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", sim.URL()+"/v2.1/users", nil)
		req.Header.Set("Authorization", justcalltest.APIKey+":"+justcalltest.APISecret)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp
	}
	r1, r2 := get(), get()
	eq(t, []int{r1.StatusCode, r2.StatusCode}, []int{200, 429}, "statuses")
	h := r2.Header
	eq(t, []string{h.Get("X-Rate-Limit-Burst-Limit"), h.Get("X-Rate-Limit-Burst-Remaining"), h.Get("X-Rate-Limit-Limit"), h.Get("X-Rate-Limit-Remaining")},
		[]string{"1", "0", "1800", "1799"}, "headers")
	reset, err := strconv.ParseInt(h.Get("X-Rate-Limit-Burst-Reset"), 10, 64)
	must(t, err)
	if d := time.Until(time.Unix(reset, 0)); d < 50*time.Second || d > 61*time.Second {
		t.Errorf("burst reset %v from now, want about a minute (UTC epoch seconds)", d)
	}
	http.DefaultClient.CloseIdleConnections()
}
