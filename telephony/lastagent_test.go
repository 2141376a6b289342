package telephony_test

import (
	"bytes"
	"context"
	"io"
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
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

const (
	laCaller       = "+14155550100"
	laRouterSecret = "lastagent-router-secret-0123456789abcdef"
	laHookSecret   = "lastagent-webhook-secret-0123456789abcdef"
	laToken        = "lastagent-aircall-token"
)

func laFast() []telephony.Option {
	return []telephony.Option{telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond)}
}

func laServe(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// teeBody gives each Aircall delivery to every handler, as two webhooks
// subscribed to the same events would receive it, and answers with the
// first one's status.
func teeBody(hs ...http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		code := 0
		for _, h := range hs {
			rec := httptest.NewRecorder()
			req := r.Clone(r.Context())
			req.Body = io.NopCloser(bytes.NewReader(body))
			h.ServeHTTP(rec, req)
			if code == 0 {
				code = rec.Code
			}
		}
		w.WriteHeader(code)
	})
}

func waitRecorded(t *testing.T, mem *telephony.LastAgentMemory, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return mem.Stats().Recorded >= n }, 5*time.Second, time.Millisecond,
		"the webhook handler's EventFunc recorded %d events", n)
}

// The same caller reaches the agent they spoke to last on every provider
// that routes, remembered from the call events alone: Dialpad through its
// call router, Aircall through call.created and a transfer. Dialpad's
// history is never asked (it cannot search by number).
func TestLastAgentSameAgentOnEveryProvider(t *testing.T) {
	// Dialpad.
	dsim := dialpadtest.NewServer()
	t.Cleanup(dsim.Close)
	dp, err := dialpad.New(dialpadtest.APIKey, append(laFast(), telephony.WithBaseURL(dsim.URL()))...)
	require.NoError(t, err)
	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: state.Memory(), History: []*telephony.Client{dp.Telephony()}})
	dsim.AddUser(dialpadtest.User{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"})
	dBob := dsim.AddUser(dialpadtest.User{FirstName: "Bob", LastName: "Stone", Email: "bob@example.com"})
	wh, err := dialpad.NewWebhookHandler(mem.Record(nil), dialpad.WebhookOptions{Secret: laHookSecret, State: state.Memory()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = wh.Close(context.Background()) })
	dsim.AddWebhook(laServe(t, wh), laHookSecret)
	rh, err := dialpad.NewRoutingHandler(telephony.Route(telephony.Target{}, mem.Rule()), dialpad.RoutingOptions{
		Secret: laRouterSecret, Client: dp, Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: "9000"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rh.Close(context.Background()) })
	router := dsim.AddRouter(dialpadtest.Router{RoutingURL: laServe(t, rh), Secret: laRouterSecret, Enabled: true,
		DefaultTargetID: 9000, DefaultTargetType: "callcenter", PhoneNumbers: []string{"+14155550000"}})

	first, err := dsim.SimulateInboundCall(t.Context(), router.ID, laCaller, "")
	require.NoError(t, err)
	assert.Equal(t, "callcenter", first.TargetType, "an unknown caller goes to the fallback")
	_, err = dsim.ConnectOperator(first.CallID, dBob.ID)
	require.NoError(t, err)
	require.NoError(t, dsim.SetCallState(first.CallID, "hangup"))
	dsim.FlushEvents()
	waitRecorded(t, mem, 1)
	second, err := dsim.SimulateInboundCall(t.Context(), router.ID, laCaller, "")
	require.NoError(t, err)
	assert.False(t, second.Fallback)
	assert.Equal(t, "user", second.TargetType)
	assert.Equal(t, dBob.ID, second.TargetID, "Dialpad: back to Bob")
	assert.Zero(t, dsim.Count("GET", "/api/v2/call"), "Dialpad's history cannot search by number: never asked")

	// Aircall.
	asim := aircalltest.NewServer()
	t.Cleanup(asim.Close)
	users := asim.SeedUsers(2)
	team := asim.AddTeam("Support", users[0].ID, users[1].ID)
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(laFast(), telephony.WithBaseURL(asim.URL()))...)
	require.NoError(t, err)
	amem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: state.Memory(), History: []*telephony.Client{ac.Telephony()}})
	arh, err := aircall.NewRoutingHandler(telephony.Route(telephony.Target{}, amem.Rule()), aircall.RoutingOptions{Client: ac,
		Secret: laToken, Fallback: telephony.Target{Type: telephony.TargetTeam, ID: strconv.FormatInt(team.ID, 10)}, State: state.Memory()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = arh.Close(context.Background()) })
	awh, err := aircall.NewWebhookHandler(amem.Record(nil), aircall.WebhookOptions{Secret: laToken, State: state.Memory()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = awh.Close(context.Background()) })
	asim.SetWebhook(laServe(t, teeBody(arh, awh)), laToken)

	id := asim.SimulateInboundCall(laCaller, "+1 415 555 0001")
	tr := laTransfer(t, asim, id)
	assert.Equal(t, team.ID, tr.TeamID, "an unknown caller goes to the fallback team")
	assert.Equal(t, 1, asim.Count("GET", "/v1/calls/search"), "the miss asked Aircall's history once")
	require.NoError(t, asim.AnswerCall(id, users[1].ID))
	require.NoError(t, asim.HangUp(id))
	waitRecorded(t, amem, 1)
	id2 := asim.SimulateInboundCall(laCaller, "+1 415 555 0001")
	tr2 := laTransfer(t, asim, id2)
	assert.Equal(t, users[1].ID, tr2.UserID, "Aircall: back to the agent who answered")
	assert.Equal(t, 1, asim.Count("GET", "/v1/calls/search"), "the event answered; no history request")
	t.Logf("dialpad: %+v", mem.Stats())
	t.Logf("aircall: %+v", amem.Stats())
}

func laTransfer(t *testing.T, sim *aircalltest.Server, id int64) aircalltest.Transfer {
	t.Helper()
	var got aircalltest.Transfer
	require.Eventually(t, func() bool {
		for _, tr := range sim.Transfers() {
			if tr.CallID == id {
				got = tr
				return true
			}
		}
		return false
	}, 5*time.Second, time.Millisecond, "call %d transferred", id)
	return got
}

// A miss is answered from the provider's history (Aircall's calls/search,
// JustCall's calls?contact_number=), then from the memory without a
// request; a caller the history does not know is cached briefly too.
func TestLastAgentMissAnsweredFromHistory(t *testing.T) {
	asim := aircalltest.NewServer()
	t.Cleanup(asim.Close)
	users := asim.SeedUsers(2)
	asim.AddCall(aircalltest.Call{RawDigits: "+1 415-555-0100", UserID: users[1].ID, StartedAt: time.Now().Add(-48 * time.Hour).Unix()})
	asim.AddCall(aircalltest.Call{RawDigits: "+14155550100", StartedAt: time.Now().Add(-time.Hour).Unix()}) // missed since
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(laFast(), telephony.WithBaseURL(asim.URL()))...)
	require.NoError(t, err)

	jsim := justcalltest.NewServer()
	t.Cleanup(jsim.Close)
	jsim.SeedUsers(2)
	jsim.AddCall(justcalltest.Call{From: laCaller, To: "+14155550001", AgentID: 1002, StartedAt: time.Now().Add(-72 * time.Hour), Duration: 40})
	jc, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, append(laFast(), telephony.WithBaseURL(jsim.URL()))...)
	require.NoError(t, err)

	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: state.Memory(),
		History: []*telephony.Client{ac.Telephony(), jc.Telephony()}})
	rule := mem.Rule()
	for _, tc := range []struct {
		provider, want string
		requests       func() int
	}{
		{telephony.ProviderAircall, strconv.FormatInt(users[1].ID, 10), func() int { return asim.Count("GET", "/v1/calls/search") }},
		{telephony.ProviderJustCall, "1002", func() int { return jsim.Count("GET", "/v2.1/calls") }},
	} {
		for i := range 3 {
			to, ok, err := rule(t.Context(), telephony.InboundCall{Provider: tc.provider, CallID: "1", From: laCaller})
			require.NoError(t, err)
			require.True(t, ok, "%s: the history knows the caller", tc.provider)
			assert.Equal(t, telephony.UserTarget(tc.want), to, "%s, lookup %d", tc.provider, i)
		}
		assert.Equal(t, 1, tc.requests(), "%s: one history request, then cached hits", tc.provider)

		for range 3 {
			_, ok, err := rule(t.Context(), telephony.InboundCall{Provider: tc.provider, CallID: "2", From: "+33612345678"})
			require.NoError(t, err)
			assert.False(t, ok, "%s: an unknown caller", tc.provider)
		}
		assert.Equal(t, 2, tc.requests(), "%s: the miss is cached too", tc.provider)
	}
	q := jsim.Requests()[0].Query
	assert.Equal(t, "14155550100", q.Get("contact_number"))
	assert.Equal(t, "Incoming", q.Get("call_direction"))
	s := mem.Stats()
	t.Logf("lookups: %d hits, %d misses, %d history requests (%d found)", s.Hits, s.Misses, s.HistoryRequests, s.HistoryFound)
	assert.Equal(t, telephony.LastAgentStats{Hits: 4, Misses: 6, HistoryRequests: 4, HistoryFound: 2}, s)
}

// A cached caller costs no request at all, on any provider.
func TestLastAgentCachedHitMakesNoRequest(t *testing.T) {
	asim := aircalltest.NewServer()
	t.Cleanup(asim.Close)
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(laFast(), telephony.WithBaseURL(asim.URL()))...)
	require.NoError(t, err)
	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: state.Memory(), History: []*telephony.Client{ac.Telephony()}})
	rec := mem.Record(func(context.Context, telephony.CallEvent) error { return nil })
	require.NoError(t, rec(t.Context(), telephony.CallEvent{Provider: telephony.ProviderAircall, CallID: "7",
		Type: "call.answered", Status: telephony.StatusInProgress, Direction: telephony.DirectionInbound,
		From: "+1 (415) 555-0100", AgentID: "42"}))
	// Neither an outbound call nor a missed one is remembered.
	require.NoError(t, rec(t.Context(), telephony.CallEvent{Provider: telephony.ProviderAircall, CallID: "8",
		Status: telephony.StatusCompleted, Direction: telephony.DirectionOutbound, To: "+14155550111", AgentID: "43"}))
	require.NoError(t, rec(t.Context(), telephony.CallEvent{Provider: telephony.ProviderAircall, CallID: "9",
		Status: telephony.StatusMissed, Direction: telephony.DirectionInbound, From: "+14155550112"}))
	assert.Equal(t, int64(1), mem.Stats().Recorded)

	to, ok, err := mem.Rule()(t.Context(), telephony.InboundCall{Provider: telephony.ProviderAircall, From: laCaller})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, telephony.UserTarget("42"), to)
	assert.Zero(t, asim.Count("", "/"), "no request reached Aircall")
	_, ok, err = mem.Rule()(t.Context(), telephony.InboundCall{Provider: telephony.ProviderDialpad, From: laCaller})
	require.NoError(t, err)
	assert.False(t, ok, "the memory is per provider: agent ids are the provider's")
}

// A history that does not answer in time leaves the call to the fallback
// within the routing deadline: the rule waits half of what is left.
func TestLastAgentSlowHistoryFallsBackInTime(t *testing.T) {
	asim := aircalltest.NewServer()
	t.Cleanup(asim.Close)
	asim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/calls/search", Delay: 5 * time.Second})
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(laFast(), telephony.WithBaseURL(asim.URL()))...)
	require.NoError(t, err)
	var reported []error
	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: state.Memory(),
		History: []*telephony.Client{ac.Telephony()}, HistoryBudget: 2 * time.Second,
		OnError: func(_ context.Context, err error) { reported = append(reported, err) }})
	fallback := telephony.Target{Type: telephony.TargetTeam, ID: "77"}
	route := telephony.Route(fallback, mem.Rule())
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	to, err := route(ctx, telephony.InboundCall{Provider: telephony.ProviderAircall, CallID: "1", From: laCaller})
	took := time.Since(start)
	require.NoError(t, err)
	assert.Equal(t, fallback, to)
	t.Logf("slow history: fallback after %v of a 1s routing deadline", took.Round(time.Millisecond))
	assert.Less(t, took, 700*time.Millisecond, "half the deadline, not the history's 5 s")
	require.Len(t, reported, 1)
	assert.ErrorIs(t, reported[0], context.DeadlineExceeded)
	assert.Equal(t, int64(1), mem.Stats().HistoryFailed)
}

// A history lookup that outlives its routing decision caches its answer
// for the next call, but never over an agent recorded while it ran: the
// event is fresher than the history.
func TestLastAgentLateHistoryKeepsFresherRecord(t *testing.T) {
	asim := aircalltest.NewServer()
	t.Cleanup(asim.Close)
	users := asim.SeedUsers(2)
	asim.AddCall(aircalltest.Call{RawDigits: laCaller, UserID: users[1].ID, StartedAt: time.Now().Add(-48 * time.Hour).Unix()})
	// The history answers after 300 ms, within the routing deadline (2 s)
	// but after the rule stopped waiting (HistoryBudget, 50 ms).
	asim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/calls/search", Delay: 300 * time.Millisecond, Times: 2})
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(laFast(), telephony.WithBaseURL(asim.URL()))...)
	require.NoError(t, err)
	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: state.Memory(), HistoryBudget: 50 * time.Millisecond,
		History: []*telephony.Client{ac.Telephony()}, OnError: func(context.Context, error) {}})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, ok, _ := mem.Rule()(ctx, telephony.InboundCall{Provider: telephony.ProviderAircall, CallID: "1", From: laCaller})
	require.False(t, ok, "the history is late: no opinion, the lookup goes on in the background")
	// The call is answered by agent 99 while the history is still running.
	require.NoError(t, mem.Remember(t.Context(), telephony.ProviderAircall, laCaller, "99", ""))
	require.Eventually(t, func() bool { return mem.Stats().HistoryFound == 1 }, 5*time.Second, 5*time.Millisecond, "the history answered")
	to, ok, err := mem.Lookup(t.Context(), telephony.ProviderAircall, laCaller)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, telephony.UserTarget("99"), to, "the recorded agent, not the history's older one (%d)", users[1].ID)

	// Without a fresher record the late answer is cached for the next call.
	other := "+14155550177"
	asim.AddCall(aircalltest.Call{RawDigits: other, UserID: users[0].ID, StartedAt: time.Now().Add(-time.Hour).Unix()})
	ctx2, cancel2 := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel2()
	_, ok, _ = mem.Rule()(ctx2, telephony.InboundCall{Provider: telephony.ProviderAircall, CallID: "2", From: other})
	require.False(t, ok)
	require.Eventually(t, func() bool { return mem.Stats().HistoryFound == 2 }, 5*time.Second, 5*time.Millisecond)
	sent := asim.Count("GET", "/v1/calls/search")
	to, ok, err = mem.Lookup(t.Context(), telephony.ProviderAircall, other)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, telephony.UserTarget(strconv.FormatInt(users[0].ID, 10)), to)
	assert.Equal(t, sent, asim.Count("GET", "/v1/calls/search"), "answered from the cache")
}

// Through Aircall's routing handler: the history does not answer, and the
// call still reaches the fallback team well within the routing timeout.
func TestLastAgentSlowHistoryAircallHandler(t *testing.T) {
	asim := aircalltest.NewServer()
	t.Cleanup(asim.Close)
	users := asim.SeedUsers(2)
	team := asim.AddTeam("Support", users[0].ID, users[1].ID)
	asim.InjectFault(aircalltest.Fault{Method: "GET", Path: "/v1/calls/search", Delay: 5 * time.Second})
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(laFast(), telephony.WithBaseURL(asim.URL()))...)
	require.NoError(t, err)
	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: state.Memory(), History: []*telephony.Client{ac.Telephony()}})
	h, err := aircall.NewRoutingHandler(telephony.Route(telephony.Target{}, mem.Rule()), aircall.RoutingOptions{Client: ac,
		Secret: laToken, RouteTimeout: time.Second, State: state.Memory(),
		Fallback: telephony.Target{Type: telephony.TargetTeam, ID: strconv.FormatInt(team.ID, 10)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	asim.SetWebhook(laServe(t, h), laToken)
	start := time.Now()
	tr := laTransfer(t, asim, asim.SimulateInboundCall(laCaller, "+1 415 555 0001"))
	took := time.Since(start)
	assert.Equal(t, team.ID, tr.TeamID)
	t.Logf("Aircall, history 5 s late: transferred to the fallback team %v after call.created (RouteTimeout 1s)", took.Round(time.Millisecond))
	assert.Less(t, took, time.Second, "the rule gave up at half the route timeout")
}

// History requests spend the account's rate budget: when the limiter has
// no slot before the routing deadline, nothing is sent and the rule has
// no opinion at once.
func TestLastAgentHistoryWithinRateBudget(t *testing.T) {
	asim := aircalltest.NewServer()
	t.Cleanup(asim.Close)
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(laFast(),
		telephony.WithBaseURL(asim.URL()), telephony.WithRateLimit(rate.Every(time.Minute), 1))...)
	require.NoError(t, err)
	_, _ = ac.Users.Get(t.Context(), 1) // spends the one slot (the 404 does not matter)
	sent := asim.Count("", "/")
	mem := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: state.Memory(), History: []*telephony.Client{ac.Telephony()}})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, ok, err := mem.Rule()(ctx, telephony.InboundCall{Provider: telephony.ProviderAircall, From: laCaller})
	took := time.Since(start)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, sent, asim.Count("", "/"), "no history request sent")
	assert.Less(t, took, 500*time.Millisecond, "refused at once, not after the deadline")
	t.Logf("rate budget spent: no opinion after %v, %d history requests sent", took.Round(time.Microsecond), asim.Count("", "/")-sent)
}
