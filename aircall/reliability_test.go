package aircall_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
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
			if n != tc.wantReqs {
				t.Errorf("requests = %d, want %d", n, tc.wantReqs)
			}
			if tc.wantKind == nil && err != nil || tc.wantKind != nil && !errors.Is(err, tc.wantKind) {
				t.Errorf("err = %v, want %v", err, tc.wantKind)
			}
			if got := len(sim.Transfers()); got != tc.transfers {
				t.Errorf("transfers = %d, want %d", got, tc.transfers)
			}
		})
	}
}

// Reads are retried on 503 and survive a dropped connection.
func TestGetRetriesTransientFailures(t *testing.T) {
	sim := newSim(t)
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	c := newClient(t, sim)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/calls/", Status: 503, Times: 2})
	if _, err := c.Calls.Get(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	sim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/calls/", ResetAfterBody: true})
	if _, err := c.Calls.Get(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	n := sim.Count("GET", "/v1/calls/")
	t.Logf("GET after 503x2 then a reset: requests seen=%d", n)
	if n != 5 {
		t.Errorf("requests = %d, want 5 (3 + 2)", n)
	}
}

// A 429 carrying Aircall's headers is waited out until X-AircallApi-Reset.
func TestRateLimited429WaitsUntilReset(t *testing.T) {
	sim := newSim(t)
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	c := newClient(t, sim)
	sim.InjectFault(aircalltest.Fault{Method: "GET", Status: http.StatusTooManyRequests}) // reset 1s ahead
	start := time.Now()
	if _, err := c.Calls.Get(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	waited := time.Since(start)
	t.Logf("429 with X-AircallApi-Reset ~1s ahead: waited %v, requests seen=%d", waited.Round(time.Millisecond), sim.Count("GET", ""))
	if sim.Count("GET", "") != 2 {
		t.Errorf("requests = %d, want 2", sim.Count("GET", ""))
	}
	if waited < 500*time.Millisecond {
		t.Errorf("waited %v; the reset was at least 1 s (rounded up to the second) away", waited)
	}
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
	if !errors.Is(err, telephony.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	var te *telephony.Error
	if !errors.As(err, &te) || te.RetryAfter != time.Minute {
		t.Errorf("RetryAfter = %v, want 1m", te.RetryAfter)
	}
}

// The simulator's company limit with the client's own limiter on: the
// headers keep sequential calls within the window, and the 429s concurrency
// causes are waited out. The simulator's window is 1 s to keep the test
// short, while the client counts Aircall's per-minute window (reported as
// 180/min); once a reset passes the client rolls its window by a minute and
// trusts the next headers, so concurrent calls meet more 429s here than
// they would against Aircall's real minute window.
func TestRateLimitHeadersAndConcurrency(t *testing.T) {
	sim := newSim(t)
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	sim.SetRateLimit(3, time.Second) // reported as X-AircallApi-Limit: 180 (per minute)
	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
		telephony.WithMaxAttempts(6)) // concurrent callers may each meet a 429 in several windows
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 6 {
		if _, err := c.Calls.Get(t.Context(), id); err != nil {
			t.Fatal(err)
		}
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
		if err != nil {
			t.Error(err)
		}
	}
	t.Logf("rate limit 3/s: 6 sequential GETs got %d 429s; 6 concurrent GETs got %d 429s, all succeeded; %d requests in %v",
		seq429, sim.Throttled()-seq429, sim.Count("GET", ""), time.Since(start).Round(time.Millisecond))
	if seq429 != 0 {
		t.Errorf("sequential calls got %d 429s; X-AircallApi-Remaining: 0 should have held them until the reset", seq429)
	}
}
