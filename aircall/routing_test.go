package aircall_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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

const hookToken = "webhook-token-of-the-test"

// errLog collects what OnError receives.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(_ context.Context, err *telephony.HandlerError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// routingSetup mounts a RoutingHandler on an httptest server registered as
// the simulator's webhook. The handler is closed at the end of the test.
func routingSetup(t *testing.T, sim *aircalltest.Server, route telephony.RouteFunc, opts aircall.RoutingOptions) (*aircall.RoutingHandler, string) {
	t.Helper()
	if opts.Client == nil {
		opts.Client = newClient(t, sim)
	}
	if opts.Secret == "" {
		opts.Secret = hookToken
	}
	h, err := aircall.NewRoutingHandler(route, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, h.Close(context.Background()), "closing the routing handler")
	})
	sim.SetWebhook(srv.URL, opts.Secret)
	return h, srv.URL
}

func drain(t *testing.T, h *aircall.RoutingHandler) {
	t.Helper()
	require.NoError(t, h.Close(t.Context()))
}

func toUser(id int64) telephony.RouteFunc {
	return func(context.Context, telephony.InboundCall) (telephony.Target, error) {
		return telephony.UserTarget(strconv.FormatInt(id, 10)), nil
	}
}

// R17: wrong, missing and right token.
func TestRoutingTokenTable(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	h, url := routingSetup(t, sim, toUser(u.ID), aircall.RoutingOptions{})
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	var got []int
	for _, tc := range []struct{ name, token string }{{"wrong", "not-the-token"}, {"missing", ""}, {"right", hookToken}} {
		sim.SetWebhook(url, tc.token)
		status, err := sim.DeliverEvent("call.created", id)
		require.NoError(t, err, "%s token", tc.name)
		got = append(got, status)
	}
	drain(t, h)
	t.Logf("R17 token table (wrong, missing, right): %v; transfers=%d", got, len(sim.Transfers()))
	assert.Equal(t, []int{401, 401, 200}, got, "statuses (wrong, missing, right)")
	assert.Len(t, sim.Transfers(), 1, "transfers, want 1 (only the right token routes)")
	s := h.Stats()
	assert.Equal(t, int64(2), s.RejectedTotal(), "stats = %+v", s)
	assert.Equal(t, int64(2), s.Rejected[telephony.RejectUnauthorized], "stats = %+v", s)
	assert.Equal(t, int64(1), s.Routed, "stats = %+v", s)
}

// R17: the same call.created delivered 3 times at once transfers once.
func TestRoutingConcurrentRedeliveryTransfersOnce(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	h, _ := routingSetup(t, sim, toUser(u.ID), aircall.RoutingOptions{})
	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	var wg sync.WaitGroup
	statuses := make([]int, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = sim.DeliverEvent("call.created", id)
		}()
	}
	wg.Wait()
	drain(t, h)
	n := sim.Count("POST", "/v1/calls/")
	t.Logf("R17 call.created delivered 3 times concurrently: statuses=%v transfer POSTs=%d stats=%+v", statuses, n, h.Stats())
	assert.Equal(t, 1, n, "transfer POSTs")
	assert.Len(t, sim.Transfers(), 1, "transfers")
	s := h.Stats()
	assert.Equal(t, int64(2), s.Duplicates, "stats = %+v", s)
	assert.Equal(t, int64(1), s.Routed, "stats = %+v", s)
}

// 1,000 inbound calls routed by email among 200 agents: the directory is
// loaded once, so user-list requests do not grow with the number of calls.
// It takes about 15 s with -race; TestFindByEmailSharesOneReload and the
// other routing tests check the same rules on a few calls.
func TestRouting1000CallsByEmail(t *testing.T) {
	testenv.Long(t)
	sim := newSim(t)
	agents := sim.SeedUsers(200)
	route := func(_ context.Context, in telephony.InboundCall) (telephony.Target, error) {
		// The caller's "last agent": +3361000NNNN -> agent (NNNN % 200)+1.
		n, err := strconv.Atoi(in.From[len(in.From)-4:])
		if err != nil {
			return telephony.Target{}, err
		}
		return telephony.UserByEmail(fmt.Sprintf("AGENT%d@example.com", n%200+1)), nil
	}
	errs := &errLog{}
	h, _ := routingSetup(t, sim, route, aircall.RoutingOptions{OnError: errs.add})

	deliver := func(from, to int) {
		var wg sync.WaitGroup
		work := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					id := sim.CreateInboundCall(fmt.Sprintf("+33 6 10 00 %02d %02d", i/100, i%100), "+1 415 555 0100")
					for attempt := 0; ; attempt++ { // Aircall redelivers after a 503
						status, err := sim.DeliverEvent("call.created", id)
						if err == nil && status == http.StatusOK || attempt == 20 {
							break
						}
						time.Sleep(5 * time.Millisecond)
					}
				}
			}()
		}
		for i := from; i < to; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
	}
	deliver(0, 100)
	waitFor(t, func() bool { return h.Stats().Routed+h.Stats().Failed >= 100 })
	after100 := sim.Count("GET", "/v1/users")
	deliver(100, 1000)
	drain(t, h)
	after1000 := sim.Count("GET", "/v1/users")
	t.Logf("1,000 inbound calls routed by email, 200 agents: user-list requests after 100 calls=%d, after 1,000 calls=%d; transfers=%d stats=%+v",
		after100, after1000, len(sim.Transfers()), h.Stats())
	assert.Equal(t, after100, after1000, "user-list requests grew with calls: %d -> %d", after100, after1000)
	assert.LessOrEqual(t, after1000, 8, "user-list requests after 1,000 calls")
	e := errs.all()
	require.Empty(t, e, "%d routing failures", len(e))
	transfers := sim.Transfers()
	require.Len(t, transfers, 1000, "transfers")
	byID := map[int64]string{}
	for _, a := range agents {
		byID[a.ID] = a.Email
	}
	for _, tr := range transfers {
		c, _ := sim.Call(tr.CallID)
		n, _ := strconv.Atoi(strings.ReplaceAll(c.RawDigits, " ", "")[8:])
		want := fmt.Sprintf("agent%d@example.com", n%200+1)
		require.Equal(t, want, byID[tr.UserID], "agent of the call from %s", c.RawDigits)
	}
}

func TestRoutingIgnoresOutboundAndOtherEvents(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	h, _ := routingSetup(t, sim, toUser(u.ID), aircall.RoutingOptions{})
	c := newClient(t, sim)
	err := c.Users.StartCall(t.Context(), u.ID, aircall.StartCallRequest{NumberID: u.Numbers[0].ID, To: "+14155550199"})
	require.NoError(t, err)
	out := sim.StartedCalls()[0].CallID
	in := sim.CreateInboundCall("+33612345678", "+14155550100")
	for _, d := range []struct {
		event string
		id    int64
	}{{"call.created", out}, {"call.answered", in}, {"call.ended", in}} {
		status, err := sim.DeliverEvent(d.event, d.id)
		assert.NoError(t, err, d.event)
		assert.Equal(t, 200, status, d.event)
	}
	drain(t, h)
	assert.Empty(t, sim.Transfers(), "transfers")
	s := h.Stats()
	assert.Equal(t, int64(3), s.Ignored, "stats = %+v, want 3 ignored", s)
}

// The body is not signed: the call is re-read, and one that ended is not
// transferred.
func TestRoutingSkipsCallsThatEnded(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	route := func(_ context.Context, in telephony.InboundCall) (telephony.Target, error) {
		id, _ := strconv.ParseInt(in.CallID, 10, 64)
		_ = sim.HangUp(id) // the caller gives up while we decide
		return telephony.UserTarget(strconv.FormatInt(u.ID, 10)), nil
	}
	h, _ := routingSetup(t, sim, route, aircall.RoutingOptions{})
	sim.SimulateInboundCall("+33612345678", "+14155550100")
	drain(t, h)
	s := h.Stats()
	assert.Equal(t, int64(1), s.Skipped, "stats = %+v; want the ended call skipped", s)
	assert.Zero(t, s.Routed, "stats = %+v; want the ended call skipped", s)
	assert.Zero(t, sim.Count("POST", ""), "POSTs; want the ended call skipped")
}

func TestRoutingReportsEveryFailure(t *testing.T) {
	boom := errors.New("crm down")
	for _, tc := range []struct {
		name  string
		route telephony.RouteFunc
		fault *aircalltest.Fault
		kind  error
	}{
		{"route error", func(context.Context, telephony.InboundCall) (telephony.Target, error) {
			return telephony.Target{}, boom
		}, nil, boom},
		{"route panic", func(context.Context, telephony.InboundCall) (telephony.Target, error) { panic("bug") }, nil, nil},
		{"unknown email", func(context.Context, telephony.InboundCall) (telephony.Target, error) {
			return telephony.UserByEmail("nobody@example.com"), nil
		}, nil, telephony.ErrNotFound},
		{"department target", func(context.Context, telephony.InboundCall) (telephony.Target, error) {
			return telephony.Target{Type: telephony.TargetDepartment, ID: "5"}, nil
		}, nil, telephony.ErrUnsupported},
		{"transfer 503", nil, &aircalltest.Fault{Method: "POST", Status: 503}, telephony.ErrOutcomeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSim(t)
			u := sim.SeedUsers(1)[0]
			route := tc.route
			if route == nil {
				route = toUser(u.ID)
			}
			var logs bytes.Buffer
			var mu sync.Mutex
			errs := &errLog{}
			h, _ := routingSetup(t, sim, route, aircall.RoutingOptions{OnError: errs.add,
				Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
			if tc.fault != nil {
				sim.InjectFault(*tc.fault)
			}
			id := sim.SimulateInboundCall("+33612345678", "+14155550100")
			drain(t, h)
			got := errs.all()
			require.Len(t, got, 1, "OnError got %v, want one error matching %v", got, tc.kind)
			if tc.kind != nil {
				require.ErrorIs(t, got[0], tc.kind, "OnError")
			}
			mu.Lock()
			logged := logs.String()
			mu.Unlock()
			assert.Contains(t, logged, "aircall routing failed", "the failure was not logged")
			assert.Contains(t, logged, strconv.FormatInt(id, 10), "the failure was not logged with the call id")
			s := h.Stats()
			assert.Equal(t, int64(1), s.Failed, "stats = %+v", s)
		})
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A transfer refused for a transient reason (a 429 longer than the client
// waits) transferred nothing, so a redelivery routes the call; after an
// outcome-unknown failure a redelivery stays a duplicate.
func TestRoutingRedeliveryAfterFailures(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	h, _ := routingSetup(t, sim, toUser(u.ID), aircall.RoutingOptions{})

	sim.InjectFault(aircalltest.Fault{Method: "POST", Status: 429, RetryAfter: "3600"})
	id := sim.SimulateInboundCall("+33612345678", "+14155550100")
	waitFor(t, func() bool { return h.Stats().Failed == 1 })
	_, err := sim.DeliverEvent("call.created", id)
	require.NoError(t, err)
	waitFor(t, func() bool { return h.Stats().Routed == 1 })

	sim.InjectFault(aircalltest.Fault{Method: "POST", Status: 502})
	id2 := sim.SimulateInboundCall("+33612345679", "+14155550100")
	waitFor(t, func() bool { return h.Stats().Failed == 2 })
	_, err = sim.DeliverEvent("call.created", id2)
	require.NoError(t, err)
	drain(t, h)
	t.Logf("redelivery after a 429 failure routed: transfers=%d; after a 502 (outcome unknown): duplicates=%d transfer POSTs for that call=%d",
		len(sim.Transfers()), h.Stats().Duplicates, sim.Count("POST", "/v1/calls/"+strconv.FormatInt(id2, 10)))
	assert.Len(t, sim.Transfers(), 1, "transfers")
	assert.Equal(t, int64(1), h.Stats().Duplicates, "stats = %+v", h.Stats())
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond, "condition not reached in 10s")
}

// A full queue never answers 503: Aircall does not retry and deactivates
// failing webhooks. A call beyond MaxInFlight waits in the queue and is
// routed; one beyond the queue is answered 200, counted as dropped and
// reported.
func TestRoutingQueueFull(t *testing.T) {
	sim := newSim(t)
	u := sim.SeedUsers(1)[0]
	release := make(chan struct{})
	route := func(ctx context.Context, _ telephony.InboundCall) (telephony.Target, error) {
		<-release
		return telephony.UserTarget(strconv.FormatInt(u.ID, 10)), nil
	}
	errs := &errLog{}
	h, _ := routingSetup(t, sim, route, aircall.RoutingOptions{MaxInFlight: 1, MaxQueued: 1, OnError: errs.add})
	sim.SimulateInboundCall("+33612345678", "+14155550100")
	waitFor(t, func() bool { return h.Stats().InFlight == 1 })
	id2 := sim.CreateInboundCall("+33612345679", "+14155550100")
	status, _ := sim.DeliverEvent("call.created", id2) // queued
	id3 := sim.CreateInboundCall("+33612345670", "+14155550100")
	status3, _ := sim.DeliverEvent("call.created", id3) // beyond the queue
	close(release)
	waitFor(t, func() bool { return h.Stats().Routed == 2 })
	drain(t, h)
	s := h.Stats()
	t.Logf("queue full: queued status=%d, dropped status=%d, transfers=%d, stats=%+v", status, status3, len(sim.Transfers()), s)
	assert.Equal(t, http.StatusOK, status, "status of the queued call")
	assert.Equal(t, http.StatusOK, status3, "status of the call beyond the queue")
	assert.Equal(t, int64(1), s.Dropped, "stats %+v", s)
	assert.Zero(t, s.Busy, "stats %+v", s)
	if assert.Len(t, errs.all(), 1, "errors") {
		assert.ErrorIs(t, errs.all()[0], telephony.ErrUnavailable)
	}
	assert.Len(t, sim.Transfers(), 2, "transfers")
}

func TestRoutingRefusesBadRequests(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	h, err := aircall.NewRoutingHandler(toUser(1), aircall.RoutingOptions{Client: c, Secret: hookToken})
	require.NoError(t, err)
	defer h.Close(t.Context())
	for _, tc := range []struct {
		name   string
		method string
		body   string
		want   int
	}{
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed},
		{"too large", http.MethodPost, `{"token":"` + strings.Repeat("x", 300<<10) + `"}`, http.StatusRequestEntityTooLarge},
		{"not JSON", http.MethodPost, "token=" + hookToken, http.StatusBadRequest},
		// Genuine (the token verifies) but undecodable: 200, and counted
		// as dropped (Aircall does not retry and deactivates webhooks
		// that fail).
		{"no call id", http.MethodPost, `{"resource":"call","event":"call.created","token":"` + hookToken + `","data":{"direction":"inbound"}}`, http.StatusOK},
		{"user event", http.MethodPost, `{"resource":"user","event":"user.created","token":"` + hookToken + `","data":{"id":1}}`, http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, "/aircall/calls", strings.NewReader(tc.body)))
		assert.Equal(t, tc.want, rec.Code, "%s: status", tc.name)
	}
	s := h.Stats()
	assert.Equal(t, int64(1), s.Dropped, "the genuine delivery without a call id is counted as dropped: %+v", s)
	assert.Equal(t, int64(3), s.RejectedTotal(), "GET, too large, not JSON: %+v", s)
	for _, bad := range []aircall.RoutingOptions{{}, {Client: c}, {Secret: "x"}, {Client: c, Secret: "x", Fallback: telephony.Target{Type: telephony.TargetUser}}} {
		_, err := aircall.NewRoutingHandler(toUser(1), bad)
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "NewRoutingHandler(%+v): want an error", bad)
	}
	_, err = aircall.NewRoutingHandler(nil, aircall.RoutingOptions{Client: c, Secret: "x"})
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "NewRoutingHandler(nil route)")
}

// A failing RouteFunc falls back to RoutingOptions.Fallback, still reported.
func TestRoutingFallback(t *testing.T) {
	sim := newSim(t)
	sim.SeedUsers(1)
	team := sim.AddTeam("Fallback")
	errs := &errLog{}
	h, _ := routingSetup(t, sim, func(context.Context, telephony.InboundCall) (telephony.Target, error) {
		return telephony.Target{}, errors.New("no idea")
	}, aircall.RoutingOptions{Fallback: telephony.Target{Type: telephony.TargetTeam, ID: strconv.FormatInt(team.ID, 10)}, OnError: errs.add})
	id := sim.SimulateInboundCall("+33612345678", "+14155550100")
	drain(t, h)
	tr := sim.Transfers()
	if assert.Len(t, tr, 1, "transfers %+v", tr) {
		assert.Equal(t, team.ID, tr[0].TeamID, "transfers %+v", tr)
		assert.Equal(t, id, tr[0].CallID, "transfers %+v", tr)
	}
	assert.Len(t, errs.all(), 1, "errors")
}

// A RouteFunc that stalls until its context ends still leaves time to
// transfer the call to the fallback.
func TestRoutingSlowRouteFuncFallsBack(t *testing.T) {
	sim := newSim(t)
	team := sim.AddTeam("Fallback")
	h, _ := routingSetup(t, sim, func(ctx context.Context, _ telephony.InboundCall) (telephony.Target, error) {
		<-ctx.Done()
		return telephony.Target{}, ctx.Err()
	}, aircall.RoutingOptions{Fallback: telephony.Target{Type: telephony.TargetTeam, ID: strconv.FormatInt(team.ID, 10)}, Timeout: 2 * time.Second, RouteTimeout: 100 * time.Millisecond})
	id := sim.SimulateInboundCall("+33612345678", "+14155550100")
	drain(t, h)
	tr := sim.Transfers()
	if assert.Len(t, tr, 1, "transfers %+v, stats %+v", tr, h.Stats()) {
		assert.Equal(t, team.ID, tr[0].TeamID, "transfers %+v, stats %+v", tr, h.Stats())
		assert.Equal(t, id, tr[0].CallID, "transfers %+v, stats %+v", tr, h.Stats())
	}
}
