package dialpadtest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// The simulators' Fault is the public telephonytest.Fault.
var _ dialpadtest.Fault = telephonytest.Fault{}

func uniformClient(t *testing.T, srv *dialpadtest.Server) *dialpad.Client {
	t.Helper()
	st := state.Memory()
	t.Cleanup(func() { _ = st.Close() })
	c, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(srv.URL()),
		telephony.WithMaxAttempts(1), telephony.WithRateLimit(rate.Inf, 1), telephony.WithState(st))
	require.NoError(t, err)
	return c
}

func TestUniformSetRateLimitsAndThrottled(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()
	u := srv.SeedUsers(1)[0]
	tc := uniformClient(t, srv).Telephony()
	dial := telephony.CallRequest{To: "+33612345678", AgentID: strconv.FormatInt(u.ID, 10)}

	srv.SetRateLimits(dialpadtest.RateLimit{CallsPerUserPerMinute: 1, RetryAfter: "4"})
	_, err := tc.Dial(t.Context(), dial)
	require.NoError(t, err)
	_, err = tc.Dial(t.Context(), dial)
	require.ErrorIs(t, err, telephony.ErrRateLimited)
	var te *telephony.Error
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 4*time.Second, te.RetryAfter)
	assert.Equal(t, 1, srv.Throttled())

	// The company limit counts too; an injected 429 does not.
	srv.SetRateLimits(dialpadtest.RateLimit{CompanyPerSecond: 1})
	st1, _ := call(t, srv, http.MethodGet, "/api/v2/users", "")
	st2, _ := call(t, srv, http.MethodGet, "/api/v2/users", "")
	assert.Equal(t, []int{200, 429}, []int{st1, st2})
	assert.Equal(t, 2, srv.Throttled())
	srv.SetRateLimits(dialpadtest.RateLimit{})
	srv.InjectFault(telephonytest.Fault{Status: http.StatusTooManyRequests})
	st3, _ := call(t, srv, http.MethodGet, "/api/v2/users", "")
	assert.Equal(t, 429, st3)
	assert.Equal(t, 2, srv.Throttled())
}

func TestUniformSimulateInbound(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	users := srv.SeedUsers(2)

	const hookSecret = "uniform-secret"
	events := make(chan telephony.CallEvent, 8)
	st := state.Memory()
	defer func() { _ = st.Close() }()
	h, err := dialpad.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error {
		events <- ev
		return nil
	}, dialpad.WebhookOptions{Secret: hookSecret, State: st})
	require.NoError(t, err)
	recv := httptest.NewServer(h)
	defer func() {
		recv.Close()
		_ = h.Close(context.Background())
	}()
	srv.AddWebhook(recv.URL, hookSecret)
	next := func() telephony.CallEvent {
		t.Helper()
		srv.FlushEvents()
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("the handler got no event")
			return telephony.CallEvent{}
		}
	}

	// A user's direct number rings the user, without a routing request.
	res, err := srv.SimulateInbound(t.Context(), dialpadtest.InboundCall{From: "+33612345678", To: users[1].PhoneNumbers[0]})
	require.NoError(t, err)
	assert.Equal(t, users[1].ID, res.TargetID)
	assert.Equal(t, "user", res.TargetType)
	assert.False(t, res.Fallback)
	c, ok := srv.Call(res.CallID)
	require.True(t, ok)
	assert.Equal(t, "inbound", c.Direction)
	assert.Equal(t, "ringing", c.State)
	ev := next()
	assert.Equal(t, strconv.FormatInt(res.CallID, 10), ev.CallID)
	assert.Equal(t, telephony.DirectionInbound, ev.Direction)
	assert.Equal(t, telephony.StatusRinging, ev.Status)
	assert.Equal(t, "+33612345678", ev.From)
	assert.Equal(t, users[1].PhoneNumbers[0], ev.To)

	// A router's number asks its routing_url, as SimulateInboundCall does.
	var asked atomic.Int32
	routing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"target_id": users[0].ID, "target_type": "user"})
	}))
	defer routing.Close()
	rt := srv.AddRouter(dialpadtest.Router{Name: "uniform", RoutingURL: routing.URL, Enabled: true,
		DefaultTargetID: dialpadtest.OfficeID, DefaultTargetType: "office", PhoneNumbers: []string{"+14155550111"}})
	res, err = srv.SimulateInbound(t.Context(), dialpadtest.InboundCall{From: "+33612345678", To: "+14155550111"})
	require.NoError(t, err)
	assert.Equal(t, users[0].ID, res.TargetID)
	assert.False(t, res.Fallback)
	assert.Equal(t, 200, res.Status)
	assert.Equal(t, int32(1), asked.Load())
	assert.Equal(t, strconv.FormatInt(res.CallID, 10), next().CallID)

	// RouterID picks the router; an empty To is its first number.
	res, err = srv.SimulateInbound(t.Context(), dialpadtest.InboundCall{From: "+33612345678", RouterID: rt.ID})
	require.NoError(t, err)
	assert.Equal(t, int32(2), asked.Load())
	c, _ = srv.Call(res.CallID)
	assert.Equal(t, "+14155550111", c.InternalNumber)
	assert.Equal(t, strconv.FormatInt(res.CallID, 10), next().CallID)
}

func TestUniformSimulateInboundErrors(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	u := srv.SeedUsers(1)[0]
	_, err := srv.SimulateInbound(t.Context(), dialpadtest.InboundCall{From: "+33612345678", To: "+14155559999"})
	assert.ErrorContains(t, err, "neither a call router's number nor a user's")
	_, err = srv.SimulateInbound(t.Context(), dialpadtest.InboundCall{From: "not a number", To: u.PhoneNumbers[0]})
	assert.Error(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = srv.SimulateInbound(ctx, dialpadtest.InboundCall{From: "+33612345678", To: u.PhoneNumbers[0]})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.Calls())
}
