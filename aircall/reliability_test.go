package aircall_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
)

// R1: a transfer moves a live call, so it is resent only when Aircall
// provably did nothing (a 429); otherwise one request and ErrOutcomeUnknown.
func TestTransferR1(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     aircalltest.Fault
		wantReqs  int
		wantKind  error
		transfers int
	}{
		{"reset-after-body", aircalltest.Fault{Method: "POST", Path: "/v1/calls/", ResetAfterBody: true}, 1, telephony.ErrOutcomeUnknown, 0},
		{"503x5", aircalltest.Fault{Method: "POST", Path: "/v1/calls/", Status: 503, Times: 5}, 1, telephony.ErrOutcomeUnknown, 0},
		{"500", aircalltest.Fault{Method: "POST", Path: "/v1/calls/", Status: 500}, 1, telephony.ErrOutcomeUnknown, 0},
		{"429,429,200", aircalltest.Fault{Method: "POST", Path: "/v1/calls/", Status: 429, Times: 2, RetryAfter: "0"}, 3, nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSim(t)
			u := sim.SeedUsers(1)[0]
			id := sim.CreateInboundCall("+33612345678", "+14155550100")
			c := newClient(t, sim)
			sim.InjectFault(tc.fault)
			err := c.Calls.Transfer(t.Context(), id, aircall.TransferRequest{UserID: u.ID})
			n := sim.Count("POST", "/v1/calls/")
			t.Logf("R1 %s: requests seen=%d transfers carried out=%d err=%v", tc.name, n, len(sim.Transfers()), err)
			assert.Equal(t, tc.wantReqs, n, "requests")
			if tc.wantKind == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantKind)
			}
			assert.Len(t, sim.Transfers(), tc.transfers, "transfers")
		})
	}
}

// Reads are retried on 503 and survive a dropped connection.
func TestGetRetriesTransientFailures(t *testing.T) {
	sim := newSim(t)
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	c := newClient(t, sim)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/calls/", Status: 503, Times: 2})
	_, err := c.Calls.Get(t.Context(), id)
	require.NoError(t, err, "GET after 503x2")
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/calls/", ResetAfterBody: true})
	_, err = c.Calls.Get(t.Context(), id)
	require.NoError(t, err, "GET after a reset")
	n := sim.Count("GET", "/v1/calls/")
	t.Logf("GET after 503x2 then a reset: requests seen=%d", n)
	assert.Equal(t, 5, n, "requests (3 + 2)")
}

// A 429 carrying Aircall's headers is waited out until X-AircallApi-Reset.
// The reset is in whole seconds, so the test waits one to two seconds.
func TestRateLimited429WaitsUntilReset(t *testing.T) {
	testenv.Long(t)
	sim := newSim(t)
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	c := newClient(t, sim)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Status: http.StatusTooManyRequests}) // reset 1s ahead
	start := time.Now()
	_, err := c.Calls.Get(t.Context(), id)
	require.NoError(t, err)
	waited := time.Since(start)
	t.Logf("429 with X-AircallApi-Reset ~1s ahead: waited %v, requests seen=%d", waited.Round(time.Millisecond), sim.Count("GET", ""))
	assert.Equal(t, 2, sim.Count("GET", ""), "requests")
	assert.GreaterOrEqual(t, waited, 500*time.Millisecond, "waited %v; the reset was at least 1 s (rounded up to the second) away", waited)
}

// A reset further away than the caller's deadline fails at once.
func TestRateLimitedFailsFastPastDeadline(t *testing.T) {
	sim := newSim(t)
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	c := newClient(t, sim, telephony.WithMaxRetryWait(100*time.Millisecond))
	sim.InjectFault(aircalltest.Fault{Method: "GET", Status: http.StatusTooManyRequests, RetryAfter: "60"})
	start := time.Now()
	_, err := c.Calls.Get(t.Context(), id)
	t.Logf("429 Retry-After 60s with max wait 100ms: err=%v after %v", err, time.Since(start).Round(time.Millisecond))
	require.ErrorIs(t, err, telephony.ErrRateLimited)
	var te *telephony.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, time.Minute, te.RetryAfter, "RetryAfter")
}

// The simulator's company limit with the client's own limiter on: the
// headers keep sequential calls within the window, and the 429s concurrency
// causes are waited out. The simulator's window is 1 s to keep the test
// short, while the client counts Aircall's per-minute window (reported as
// 180/min); once a reset passes the client rolls its window by a minute and
// trusts the next headers, so concurrent calls meet more 429s here than
// they would against Aircall's real minute window. The windows make it take
// about three seconds.
func TestRateLimitHeadersAndConcurrency(t *testing.T) {
	testenv.Long(t)
	sim := newSim(t)
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	sim.SetRateLimit(3, time.Second) // reported as X-AircallApi-Limit: 180 (per minute)
	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
		telephony.WithMaxAttempts(6)) // concurrent callers may each meet a 429 in several windows
	require.NoError(t, err)
	start := time.Now()
	for i := range 6 {
		_, err := c.Calls.Get(t.Context(), id)
		require.NoError(t, err, "sequential GET %d", i+1)
	}
	seq429 := sim.Throttled()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Calls.Get(t.Context(), id)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err, "concurrent GET")
	}
	t.Logf("rate limit 3/s: 6 sequential GETs got %d 429s; 6 concurrent GETs got %d 429s, all succeeded; %d requests in %v",
		seq429, sim.Throttled()-seq429, sim.Count("GET", ""), time.Since(start).Round(time.Millisecond))
	assert.Zero(t, seq429, "sequential calls got %d 429s; X-AircallApi-Remaining: 0 should have held them until the reset", seq429)
}
