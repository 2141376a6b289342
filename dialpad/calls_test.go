package dialpad_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.Len(t, calls, 1, "simulator calls = %+v", calls)
	require.Equal(t, call.CallID, calls[0].ID, "simulator calls = %+v; want the one with id %d", calls, call.CallID)
	got := calls[0]
	assert.Equal(t, u.ID, got.UserID, "placed call user_id")
	assert.Equal(t, "+14155550100", got.PhoneNumber, "placed call phone_number")
	assert.Equal(t, "+16285550199", got.OutboundCallerID, "placed call outbound_caller_id")
	assert.Equal(t, int64(7), got.GroupID, "placed call group_id")
	assert.Equal(t, "callcenter", got.GroupType, "placed call group_type")
	assert.Equal(t, "crm-42", got.CustomData, "placed call custom_data")
	assert.Equal(t, "outbound", got.Direction, "placed call direction")
	body := lastBody(t, srv, "POST")
	assert.IsType(t, float64(0), body["user_id"], "body = %v; want user_id as a JSON number", body)
	assert.Equal(t, "+14155550100", body["phone_number"], "body = %v", body)
	for _, k := range []string{"device_id", "is_consult"} {
		assert.NotContains(t, body, k, "body sets %s though the request left it empty", k)
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
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, name)
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
				if assert.ErrorAs(t, err, &te, "rate-limit error: %v", err) {
					assert.Positive(t, te.RetryAfter, "rate-limit error without RetryAfter: %v", err)
				}
				for {
					d, cur := int64(time.Since(start)), slowestFail.Load()
					if d <= cur || slowestFail.CompareAndSwap(cur, d) {
						break
					}
				}
			default:
				other.Add(1)
				assert.NoError(t, err)
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
	assert.LessOrEqual(t, maxWindow, 5, "the simulator saw %d call initiations within 60 s; Dialpad allows 5", maxWindow)
	assert.GreaterOrEqual(t, limited.Load(), int64(95), "calls that failed fast")
	assert.LessOrEqual(t, time.Duration(slowestFail.Load()), time.Second, "the slowest rate-limited call; it should fail at once")
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
	assert.Equal(t, map[string]any{"target_id": float64(users[1].ID), "target_type": "user"}, to,
		"to = %v; want only target_id and target_type", body["to"])

	tr, err = c.Calls.Transfer(t.Context(), call.CallID, dialpad.TransferRequest{To: dialpad.TransferDestination{Number: "+14155550177"}})
	ok(t, err)
	eq(t, "number", tr.TransferredToNumber, "+14155550177")
	to, _ = lastBody(t, srv, "POST")["to"].(map[string]any)
	assert.Equal(t, map[string]any{"number": "+14155550177"}, to, "want only number")

	_, err = c.Calls.Transfer(t.Context(), call.CallID, dialpad.TransferRequest{To: dialpad.TransferDestination{CallID: other.CallID}})
	ok(t, err)
	to, _ = lastBody(t, srv, "POST")["to"].(map[string]any)
	assert.Equal(t, map[string]any{"call_id": float64(other.CallID)}, to, "want only call_id")
	trs := srv.Transfers()
	if assert.Len(t, trs, 3, "simulator transfers = %+v", trs) {
		assert.Equal(t, users[1].ID, trs[0].ToTargetID, "simulator transfers = %+v", trs)
		assert.Equal(t, "+14155550177", trs[1].ToNumber, "simulator transfers = %+v", trs)
		assert.Equal(t, other.CallID, trs[2].ToCallID, "simulator transfers = %+v", trs)
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
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, name)
	}
	_, err := c.Calls.Transfer(t.Context(), 0, dialpad.TransferRequest{To: dialpad.TransferDestination{CallID: 5}})
	isErr(t, err, telephony.ErrInvalidRequest)
	eq(t, "requests", srv.Count("", "/"), 0)
}
