package dialpad_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestCallsInitiate(t *testing.T) {
	c, srv := newTestClient(t)
	u := srv.SeedUsers(1)[0]
	call, err := c.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{
		PhoneNumber: "+14155550100", UserID: u.ID, OutboundCallerID: "+16285550199",
		GroupID: 7, GroupType: "callcenter", CustomData: "crm-42",
	})
	ok(t, err)
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].ID != call.CallID {
		t.Fatalf("simulator calls = %+v; want the one with id %d", calls, call.CallID)
	}
	got := calls[0]
	if got.UserID != u.ID || got.PhoneNumber != "+14155550100" || got.OutboundCallerID != "+16285550199" ||
		got.GroupID != 7 || got.GroupType != "callcenter" || got.CustomData != "crm-42" || got.Direction != "outbound" {
		t.Errorf("placed call = %+v", got)
	}
	body := lastBody(t, srv, "POST")
	if _, isNum := body["user_id"].(float64); !isNum || body["phone_number"] != "+14155550100" {
		t.Errorf("body = %v", body)
	}
	for _, k := range []string{"device_id", "is_consult"} {
		if _, set := body[k]; set {
			t.Errorf("body sets %s though the request left it empty", k)
		}
	}
}

func TestCallsInitiateValidation(t *testing.T) {
	c, srv := newTestClient(t)
	for name, req := range map[string]dialpad.InitiateCallRequest{
		"no number":      {UserID: 1},
		"not e164":       {PhoneNumber: "4155550100", UserID: 1},
		"no user":        {PhoneNumber: "+14155550100"},
		"group id alone": {PhoneNumber: "+14155550100", UserID: 1, GroupID: 3},
		"bad group type": {PhoneNumber: "+14155550100", UserID: 1, GroupID: 3, GroupType: "team"},
		"bad caller id":  {PhoneNumber: "+14155550100", UserID: 1, OutboundCallerID: "private"},
	} {
		_, err := c.Calls.Initiate(t.Context(), req)
		if !errors.Is(err, telephony.ErrInvalidRequest) {
			t.Errorf("%s: error = %v; want invalid request", name, err)
		}
	}
	_, err := c.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: 1, OutboundCallerID: "blocked"})
	isErr(t, err, telephony.ErrNotFound) // valid, but the simulator has no user 1
	eq(t, "requests", srv.Count("", "/"), 1)
}

// R8: 100 concurrent click-to-calls to one user, each with a 2 s context.
// Dialpad allows 5 per minute per user; the rest must fail fast, unsent.
func TestCallsInitiatePerUserLimitR8(t *testing.T) {
	c, srv := newTestClient(t)
	u := srv.SeedUsers(2)
	const n = 100
	var wg sync.WaitGroup
	var placed, limited, other atomic.Int64
	var slowestFail atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			start := time.Now()
			_, err := c.Calls.Initiate(ctx, dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: u[0].ID})
			switch {
			case err == nil:
				placed.Add(1)
			case errors.Is(err, telephony.ErrRateLimited):
				limited.Add(1)
				var te *telephony.Error
				if !errors.As(err, &te) || te.RetryAfter <= 0 {
					t.Errorf("rate-limit error without RetryAfter: %v", err)
				}
				for {
					d, cur := int64(time.Since(start)), slowestFail.Load()
					if d <= cur || slowestFail.CompareAndSwap(cur, d) {
						break
					}
				}
			default:
				other.Add(1)
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	var times []time.Time
	for _, r := range srv.Requests() {
		if r.Method == "POST" && r.Path == "/api/v2/call" {
			times = append(times, r.Time)
		}
	}
	maxWindow := maxInWindow(times, time.Minute)
	t.Logf("R8 per-user limit: max requests in any 60 s window=%d, failed fast with ErrRateLimited=%d, placed=%d, slowest fail-fast=%v",
		maxWindow, limited.Load(), placed.Load(), time.Duration(slowestFail.Load()).Round(time.Millisecond))
	if maxWindow > 5 {
		t.Errorf("the simulator saw %d call initiations within 60 s; Dialpad allows 5", maxWindow)
	}
	if limited.Load() < 95 {
		t.Errorf("%d calls failed fast; want >= 95", limited.Load())
	}
	if time.Duration(slowestFail.Load()) > time.Second {
		t.Errorf("a rate-limited call took %v to fail; it should fail at once", time.Duration(slowestFail.Load()))
	}
	// Another user is not affected.
	_, err := c.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: u[1].ID})
	ok(t, err)
}

func maxInWindow(times []time.Time, window time.Duration) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= window {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// R1 for click-to-call: a request that may have rung a phone is never sent
// twice; a 429 is retried (Dialpad refused it before acting).
func TestCallsInitiateNotResentR1(t *testing.T) {
	cases := []struct {
		name       string
		fault      dialpadtest.Fault
		want       error
		executions int
		placed     int
	}{
		{"reset after body", dialpadtest.Fault{ResetAfterBody: true}, telephony.ErrOutcomeUnknown, 1, 0},
		{"503", dialpadtest.Fault{Status: 503, Times: 5}, telephony.ErrOutcomeUnknown, 1, 0},
		{"client timeout", dialpadtest.Fault{Delay: 150 * time.Millisecond}, telephony.ErrOutcomeUnknown, 1, 1},
		{"429,429,200", dialpadtest.Fault{Status: 429, Times: 2}, nil, 3, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, srv := newTestClient(t)
			u := srv.SeedUsers(1)[0]
			tc.fault.Method, tc.fault.Path = "POST", "/api/v2/call"
			srv.InjectFault(tc.fault)
			ctx := t.Context()
			if tc.fault.Delay > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			}
			_, err := c.Calls.Initiate(ctx, dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: u.ID})
			if tc.want == nil {
				ok(t, err)
			} else {
				isErr(t, err, tc.want)
			}
			if tc.fault.Delay > 0 {
				time.Sleep(2 * tc.fault.Delay) // the slow server finishes its work
			}
			n := srv.Count("POST", "/api/v2/call")
			t.Logf("R1 %s: requests seen=%d, calls placed=%d, err=%v", tc.name, n, len(srv.Calls()), err)
			eq(t, "requests", n, tc.executions)
			eq(t, "calls placed", len(srv.Calls()), tc.placed)
		})
	}
}

func TestCallsTransfer(t *testing.T) {
	c, srv := newTestClient(t)
	users := srv.SeedUsers(2)
	call, err := c.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: users[0].ID})
	ok(t, err)
	other, err := c.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550101", UserID: users[1].ID})
	ok(t, err)

	tr, err := c.Calls.Transfer(t.Context(), call.CallID, dialpad.TransferRequest{
		To: dialpad.TransferDestination{TargetID: users[1].ID, TargetType: "user"}, TransferState: "hold", CustomData: "x"})
	ok(t, err)
	eq(t, "call id", tr.CallID, call.CallID)
	eq(t, "state", tr.TransferredToState, "hold")
	body := lastBody(t, srv, "POST")
	to, _ := body["to"].(map[string]any)
	if len(to) != 2 || to["target_id"] != float64(users[1].ID) || to["target_type"] != "user" {
		t.Errorf("to = %v; want only target_id and target_type", body["to"])
	}

	tr, err = c.Calls.Transfer(t.Context(), call.CallID, dialpad.TransferRequest{To: dialpad.TransferDestination{Number: "+14155550177"}})
	ok(t, err)
	eq(t, "number", tr.TransferredToNumber, "+14155550177")
	to, _ = lastBody(t, srv, "POST")["to"].(map[string]any)
	if len(to) != 1 || to["number"] != "+14155550177" {
		t.Errorf("to = %v; want only number", to)
	}

	_, err = c.Calls.Transfer(t.Context(), call.CallID, dialpad.TransferRequest{To: dialpad.TransferDestination{CallID: other.CallID}})
	ok(t, err)
	to, _ = lastBody(t, srv, "POST")["to"].(map[string]any)
	if len(to) != 1 || to["call_id"] != float64(other.CallID) {
		t.Errorf("to = %v; want only call_id", to)
	}
	trs := srv.Transfers()
	if len(trs) != 3 || trs[0].ToTargetID != users[1].ID || trs[1].ToNumber != "+14155550177" || trs[2].ToCallID != other.CallID {
		t.Errorf("simulator transfers = %+v", trs)
	}

	_, err = c.Calls.Transfer(t.Context(), 999999, dialpad.TransferRequest{To: dialpad.TransferDestination{Number: "+14155550177"}})
	isErr(t, err, telephony.ErrNotFound)
	ok(t, srv.SetCallState(call.CallID, "hangup"))
	_, err = c.Calls.Transfer(t.Context(), call.CallID, dialpad.TransferRequest{To: dialpad.TransferDestination{Number: "+14155550177"}})
	isErr(t, err, telephony.ErrInvalidRequest)
}

func TestCallsTransferValidation(t *testing.T) {
	c, srv := newTestClient(t)
	for name, req := range map[string]dialpad.TransferRequest{
		"no destination":   {},
		"two destinations": {To: dialpad.TransferDestination{Number: "+14155550100", CallID: 5}},
		"three":            {To: dialpad.TransferDestination{Number: "+14155550100", CallID: 5, TargetID: 1, TargetType: "user"}},
		"bad number":       {To: dialpad.TransferDestination{Number: "555"}},
		"type without id":  {To: dialpad.TransferDestination{TargetType: "user"}},
		"id without type":  {To: dialpad.TransferDestination{TargetID: 4}},
		"bad target type":  {To: dialpad.TransferDestination{TargetID: 4, TargetType: "team"}},
		"bad state":        {To: dialpad.TransferDestination{CallID: 5}, TransferState: "limbo"},
		"negative call id": {To: dialpad.TransferDestination{CallID: -5}},
	} {
		_, err := c.Calls.Transfer(t.Context(), 10, req)
		if !errors.Is(err, telephony.ErrInvalidRequest) {
			t.Errorf("%s: error = %v; want invalid request", name, err)
		}
	}
	_, err := c.Calls.Transfer(t.Context(), 0, dialpad.TransferRequest{To: dialpad.TransferDestination{CallID: 5}})
	isErr(t, err, telephony.ErrInvalidRequest)
	eq(t, "requests", srv.Count("", "/"), 0)
}
