package justcalltest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// The simulators' Fault is the public telephonytest.Fault.
var _ justcalltest.Fault = telephonytest.Fault{}

func uniformClient(t *testing.T, sim *justcalltest.Server) *justcall.Client {
	t.Helper()
	st := state.Memory()
	t.Cleanup(func() { _ = st.Close() })
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()),
		telephony.WithMaxAttempts(1), telephony.WithRateLimit(rate.Inf, 1), telephony.WithState(st))
	require.NoError(t, err)
	return c
}

func rawGet(t *testing.T, sim *justcalltest.Server, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, sim.URL()+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", goodAuth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

// receiver is a justcall.NewWebhookHandler verifying with secret, on
// httptest; its events arrive on the channel.
func receiver(t *testing.T, secret string) (string, <-chan telephony.CallEvent) {
	t.Helper()
	events := make(chan telephony.CallEvent, 8)
	st := state.Memory()
	h, err := justcall.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error {
		events <- ev
		return nil
	}, justcall.WebhookOptions{Secret: secret, State: st})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		_ = h.Close(context.Background())
		_ = st.Close()
	})
	return srv.URL, events
}

func TestUniformSetRateLimits(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	defer http.DefaultClient.CloseIdleConnections()
	sim.SeedUsers(1)

	sim.SetRateLimits(justcalltest.RateLimit{PerMinute: 1, PerHour: 5, RetryAfter: "3"})
	r1, r2 := rawGet(t, sim, "/v2.1/users"), rawGet(t, sim, "/v2.1/users")
	assert.Equal(t, []int{200, 429}, []int{r1.StatusCode, r2.StatusCode})
	assert.Equal(t, []string{"1", "5", "3"},
		[]string{r2.Header.Get("X-Rate-Limit-Burst-Limit"), r2.Header.Get("X-Rate-Limit-Limit"), r2.Header.Get("Retry-After")})
	assert.Empty(t, r1.Header.Get("Retry-After"), "Retry-After only on the 429")
	assert.Equal(t, 1, sim.Throttled())
	for _, err := range uniformClient(t, sim).Telephony().Users(t.Context()) {
		require.ErrorIs(t, err, telephony.ErrRateLimited)
	}
	assert.Equal(t, 2, sim.Throttled(), "the client's request was answered 429 too")

	// A zero field is no limit (a new Server has generous defaults).
	sim.SetRateLimits(justcalltest.RateLimit{})
	r := rawGet(t, sim, "/v2.1/users")
	assert.Equal(t, 200, r.StatusCode)
	assert.Empty(t, r.Header.Get("X-Rate-Limit-Burst-Limit"))

	// An injected 429 is a fault, not the rate limit.
	sim.InjectFault(telephonytest.Fault{Status: http.StatusTooManyRequests})
	assert.Equal(t, 429, rawGet(t, sim, "/v2.1/users").StatusCode)
	assert.Equal(t, 2, sim.Throttled())
}

func TestUniformAddWebhookAndSimulateInbound(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	users := sim.SeedUsers(2)
	mine, events := receiver(t, "my-secret")
	def, defEvents := receiver(t, justcalltest.APISecret)

	id := sim.AddWebhook(mine, "my-secret")
	assert.Len(t, id, 24)
	sim.AddWebhook(def, "") // signed with APISecret
	assert.Empty(t, sim.RegisteredWebhooks(), "AddWebhook's are not REST registrations")

	res, err := sim.SimulateInbound(t.Context(), justcalltest.InboundCall{From: "+33612345678", To: users[1].Numbers[0]})
	require.NoError(t, err)
	assert.Equal(t, users[1].ID, res.AgentID, "the number's owner")
	sim.FlushEvents()
	for name, ch := range map[string]<-chan telephony.CallEvent{"my-secret": events, "APISecret": defEvents} {
		select {
		case ev := <-ch:
			assert.Equal(t, "call.incoming", ev.Type, name)
			assert.Equal(t, res.CallID, ev.CallID, name)
			assert.Equal(t, telephony.DirectionInbound, ev.Direction, name)
			assert.Equal(t, telephony.StatusRinging, ev.Status, name)
			assert.Equal(t, "+33612345678", ev.From, name)
			assert.Equal(t, users[1].Numbers[0], ev.To, name)
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the handler got no event", name)
		}
	}
	d := sim.Deliveries()
	require.Len(t, d, 2)
	for _, d := range d {
		assert.Equal(t, "webhook", d.Kind)
		assert.Equal(t, "call.incoming", d.Status)
		assert.Equal(t, res.CallID, d.CallID)
		assert.Equal(t, 200, d.StatusCode, "the handler verified the signature")
	}

	// The provider's client reads the incoming call back.
	call, err := uniformClient(t, sim).Calls.Get(t.Context(), res.CallID)
	require.NoError(t, err)
	assert.Equal(t, "Incoming", call.Direction)
	assert.Equal(t, "+33612345678", call.ContactNumber)
	assert.Equal(t, users[1].Numbers[0], call.JustCallNumber)
	assert.Equal(t, users[1].ID, call.AgentID)

	// AddWebhook's URLs get every type EmitWebhook emits.
	n, err := sim.EmitCallEvent("call.completed", res.CallID)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestUniformSimulateInboundErrors(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	u := sim.SeedUsers(1)[0]
	_, err := sim.SimulateInbound(t.Context(), justcalltest.InboundCall{From: "+33612345678", To: "+14155559999"})
	assert.ErrorContains(t, err, "not a number of the account")
	_, err = sim.SimulateInbound(t.Context(), justcalltest.InboundCall{To: u.Numbers[0]})
	assert.Error(t, err, "no From")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = sim.SimulateInbound(ctx, justcalltest.InboundCall{From: "+33612345678", To: u.Numbers[0]})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, sim.Calls())
}

// FlushEvents waits for the callbacks of a call placed through the client.
func TestUniformFlushEventsWaitsForCallbacks(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	u := sim.SeedUsers(1)[0]
	sim.SetCallbackInterval(20 * time.Millisecond)
	var mu sync.Mutex
	var statuses []string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		statuses = append(statuses, r.URL.Path)
		mu.Unlock()
	}))
	defer cb.Close()
	_, err := uniformClient(t, sim).Calls.Make(t.Context(), justcall.MakeCallRequest{
		From: u.Numbers[0], To: "+33612345678", CallbackURL: cb.URL + "/cb"})
	require.NoError(t, err)
	sim.FlushEvents()
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, statuses, 3, "ringing, in-progress, completed")
	assert.Len(t, sim.Deliveries(), 3)
}
