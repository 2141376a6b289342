package aircalltest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// The simulators' Fault is the public telephonytest.Fault.
var _ aircalltest.Fault = telephonytest.Fault{}

func uniformClient(t *testing.T, s *aircalltest.Server) *aircall.Client {
	t.Helper()
	st := state.Memory()
	t.Cleanup(func() { _ = st.Close() })
	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(s.URL()),
		telephony.WithMaxAttempts(1), telephony.WithRateLimit(rate.Inf, 1), telephony.WithState(st))
	require.NoError(t, err)
	return c
}

// waitMinuteStart keeps the next requests out of the last seconds of a
// clock minute, where the simulator's aligned window would reset.
func waitMinuteStart() {
	if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 3*time.Second {
		time.Sleep(left + 10*time.Millisecond)
	}
}

func TestUniformSetRateLimits(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	s.SeedUsers(1)

	waitMinuteStart()
	s.SetRateLimits(aircalltest.RateLimit{PerMinute: 2, RetryAfter: "5"})
	r1, _ := get(t, s.URL()+"/v1/users", true)
	r2, _ := get(t, s.URL()+"/v1/users", true)
	r3, _ := get(t, s.URL()+"/v1/users", true)
	assert.Equal(t, []int{200, 200, 429}, []int{r1.StatusCode, r2.StatusCode, r3.StatusCode})
	assert.Equal(t, "2", r1.Header.Get("X-AircallApi-Limit"))
	assert.Equal(t, "5", r3.Header.Get("Retry-After"))
	assert.Empty(t, r1.Header.Get("Retry-After"), "Retry-After only on the 429")
	assert.Equal(t, 1, s.Throttled())
	_, err := uniformClient(t, s).Users.Get(t.Context(), s.Users()[0].ID)
	require.ErrorIs(t, err, telephony.ErrRateLimited)

	// A shorter window scales the per-minute limit: 180/min in 1 s windows
	// is 3 a window, still reported per minute.
	s.SetRateLimits(aircalltest.RateLimit{PerMinute: 180, Window: time.Second})
	r, _ := get(t, s.URL()+"/v1/users", true)
	assert.Equal(t, "180", r.Header.Get("X-AircallApi-Limit"))

	// The zero RateLimit turns limiting off.
	s.SetRateLimits(aircalltest.RateLimit{})
	r, _ = get(t, s.URL()+"/v1/users", true)
	assert.Equal(t, 200, r.StatusCode)
	assert.Empty(t, r.Header.Get("X-AircallApi-Limit"))
}

func TestUniformAddWebhookAndSimulateInbound(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	users := s.SeedUsers(2)

	events := make(chan telephony.CallEvent, 8)
	h, err := aircall.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error {
		events <- ev
		return nil
	}, aircall.WebhookOptions{Secret: "tok-uniform"})
	require.NoError(t, err)
	recv := httptest.NewServer(h)
	defer func() {
		recv.Close()
		_ = h.Close(context.Background())
	}()

	id := s.AddWebhook(recv.URL, "tok-uniform")
	// It is a webhook like one created through the REST API: the
	// provider's client lists it, with its token and the call events.
	var listed []aircall.Webhook
	for wh, err := range uniformClient(t, s).Webhooks().List(t.Context(), nil) {
		require.NoError(t, err)
		listed = append(listed, wh)
	}
	require.Len(t, listed, 1)
	assert.Equal(t, id, listed[0].ID)
	assert.Equal(t, recv.URL, listed[0].URL)
	assert.Equal(t, "tok-uniform", listed[0].Token)
	assert.True(t, listed[0].Active)
	assert.Contains(t, listed[0].Events, aircall.EventCallCreated)
	assert.Contains(t, listed[0].Events, aircall.EventCallEnded)

	res, err := s.SimulateInbound(t.Context(), aircalltest.InboundCall{From: "+33612345678", To: users[1].Numbers[0].Digits})
	require.NoError(t, err)
	assert.Equal(t, users[1].Numbers[0].ID, res.NumberID, "the seeded number was called")
	s.FlushEvents() // a no-op: the delivery was answered already
	d := s.Deliveries()
	require.Len(t, d, 1)
	assert.Equal(t, aircalltest.Delivery{Event: "call.created", CallID: res.CallID, Status: 200, WebhookID: id}, d[0])
	select {
	case ev := <-events:
		assert.Equal(t, strconv.FormatInt(res.CallID, 10), ev.CallID)
		assert.Equal(t, telephony.DirectionInbound, ev.Direction)
		assert.Equal(t, telephony.StatusRinging, ev.Status)
	case <-time.After(5 * time.Second):
		t.Fatal("the handler got no event")
	}
	// The provider's client reads the call back.
	call, err := uniformClient(t, s).Calls.Get(t.Context(), res.CallID)
	require.NoError(t, err)
	assert.Equal(t, "inbound", call.Direction)

	// An empty secret is left out of the bodies.
	s.AddWebhook(recv.URL+"/tokenless", "")
	assert.Empty(t, s.APIWebhooks()[1].Token)
}

func TestUniformSimulateInboundErrors(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	_, err := s.SimulateInbound(t.Context(), aircalltest.InboundCall{To: "+14155550100"})
	assert.Error(t, err, "no From")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = s.SimulateInbound(ctx, aircalltest.InboundCall{From: "+33612345678", To: "+14155550100"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, s.Calls(), "nothing was created")
}

func TestUniformInjectFault(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	u := s.SeedUsers(1)[0]
	s.InjectFault(telephonytest.Fault{Method: http.MethodGet, Path: "/v1/users/", Status: http.StatusBadGateway, Times: 2})
	c := uniformClient(t, s)
	for range 2 {
		_, err := c.Users.Get(t.Context(), u.ID)
		require.ErrorIs(t, err, telephony.ErrUnavailable)
	}
	got, err := c.Users.Get(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, u.Email, got.Email)
	assert.Equal(t, 3, s.Count(http.MethodGet, "/v1/users/"))
}
