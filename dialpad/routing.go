package dialpad

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// Routing budgets. Dialpad waits 5 s for a routing answer; a slower answer,
// like any non-200 or invalid one, counts as a routing error, and more than
// 10 errors in an hour disable the router.
const (
	// DefaultRoutingBudget is how long a RoutingHandler gives verification,
	// the RouteFunc and email resolution together before it answers the
	// fallback target.
	DefaultRoutingBudget = 3500 * time.Millisecond
	// MaxRoutingBudget is the largest budget NewRoutingHandler accepts: it
	// leaves room for the network inside Dialpad's 5 s.
	MaxRoutingBudget = 4500 * time.Millisecond
	// DefaultRoutingMaxInFlight bounds the RouteFunc goroutines still running,
	// late ones included.
	DefaultRoutingMaxInFlight = 1024

	rtDialpadDeadline = 5 * time.Second
)

// FallbackCause says why a RoutingHandler answered the fallback target:
// the keys of Stats().Fallbacks and the Decision of the deliveries an
// Observer is told of. It is a string, so the constants index the
// portable telephony.HandlerStats directly.
type FallbackCause = string

// Fallback causes.
const (
	FallbackError         FallbackCause = "error"          // the RouteFunc returned an error
	FallbackTimeout       FallbackCause = "timeout"        // the budget ended first
	FallbackPanic         FallbackCause = "panic"          // the RouteFunc panicked
	FallbackInvalidTarget FallbackCause = "invalid_target" // unusable or unresolvable target
	FallbackUnavailable   FallbackCause = "unavailable"    // MaxInFlight reached, or Close called
	// FallbackInvalidRequest: the request verified and names a call, but
	// its other claims cannot be decoded; the RouteFunc is not called.
	FallbackInvalidRequest FallbackCause = "invalid_request"
)

// RoutingOptions configures NewRoutingHandler.
type RoutingOptions struct {
	// Secret is the call router's secret (at least 32 characters). With a
	// secret, every request must be an HS256 JWT signed with it; anything
	// else is answered 401.
	Secret string
	// Fallback is where a call goes when the RouteFunc errs, panics, is late
	// or returns an unusable target. Required: a user, department,
	// callcenter or office target with a numeric ID (not an email).
	Fallback telephony.Target
	// Budget bounds verification, the RouteFunc and email resolution
	// together; zero means DefaultRoutingBudget. At most MaxRoutingBudget.
	Budget time.Duration
	// AllowUnsigned accepts plain JSON requests when Secret is empty, as
	// Dialpad sends them for a router without a secret. Anyone who can
	// reach the URL can then ask where calls go; a warning is logged.
	AllowUnsigned bool
	// Client resolves targets naming a user by email
	// (telephony.UserByEmail) through its cached user directory, within the
	// budget. Without it an email target falls back.
	Client *Client
	// Logger receives rejections and fallbacks (warn) and panics (error).
	// Nil is silent. Secrets and tokens are never logged.
	Logger *slog.Logger
	// OnError receives every fallback caused by a failure (the RouteFunc's
	// error, panic or lateness, an unusable target, MaxInFlight reached, a
	// request that could not be fully decoded), with the call. It runs in
	// the request's goroutine, before the answer is counted: keep it
	// quick. For a RouteFunc still running when the budget ends, it runs
	// in the goroutine that answers the fallback for it, before that
	// answer is counted and flushed.
	OnError func(ctx context.Context, err *telephony.HandlerError)
	// Observer is told of each answered request (Decision "route" or the
	// fallback's cause); nil costs nothing.
	Observer telephony.Observer
	// MaxInFlight bounds the RouteFunc calls still running, including late
	// ones that ignore their context; beyond it requests get the fallback
	// at once. Zero means DefaultRoutingMaxInFlight.
	MaxInFlight int
	// SendAction adds "action":"route" to every answer. Dialpad's routing
	// guide documents target_id and target_type only; the action field
	// is quoted on Dialpad's forum and in community code. Off by default.
	SendAction bool
}

// RoutingHandler is the http.Handler behind a Dialpad call router's
// routing_url. It verifies the request, asks a RouteFunc where the call
// goes and answers {"target_id":N,"target_type":"..."} (see
// RoutingOptions.SendAction) with 200 inside its budget — the fallback target when the RouteFunc
// cannot answer in time — because every other answer counts towards
// Dialpad's automatic disabling of the router. It is safe for concurrent
// use.
//
// # Verification
//
// With a secret, the body must be a compact JWT signed with HS256 and that
// secret: the algorithm is pinned (HS384, HS512, "none" and asymmetric
// algorithms are refused) and anything else — JSON, an empty body, a
// forged, tampered or truncated token — is answered 401 without calling
// the RouteFunc. Dialpad documents no exp, iat or nbf claim for these
// tokens, so they are checked when present (with 5 s of leeway; iat may not
// lie in the future) but not required: requiring them would refuse every
// genuine request if Dialpad does not send them. A captured token can
// therefore be replayed; a replay only asks again where that call goes.
// A verified request that is not a routing request (no call_id) gets 400.
// A verified request with a call_id whose other claims cannot be decoded
// gets the fallback target with 200 (cause FallbackInvalidRequest), not a
// 400: Dialpad signed it, and a 400 would count towards disabling the
// router. date_started is read leniently (an integer, a float or a numeric
// string of milliseconds).
//
// # The deadline
//
// When the ResponseWriter can flush (net/http's, HTTP/1 and HTTP/2), the
// RouteFunc runs in the request's goroutine and a watchdog answers the
// fallback — complete, flushed, and on HTTP/1 with "Connection: close" —
// if the budget ends first; the handler itself then returns when the
// RouteFunc does (its context has ended). With a writer that cannot flush,
// the RouteFunc runs in a goroutine of its own and the handler returns at
// the budget. Either way the answer goes out inside the budget.
//
// # Auto-disable
//
// A disabled router stops calling the routing URL. Re-enable it with
// (*CallRoutersService).Reenable, which sets enabled and reset_error_count
// together: enabling alone keeps the hour's error count, so one more error
// disables it again. Router updates are limited to one per 5 minutes. Watch
// Stats().ErrorsLastHour and alert well before 10.
//
// Stats().Fallbacks is keyed by the FallbackCause values (as strings);
// Stats().Rejected by telephony.RejectMethod, RejectTooLarge,
// RejectUnauthorized and RejectMalformed.
type RoutingHandler struct {
	route       telephony.RouteFunc
	verifier    *rtVerifier // nil in unsigned mode
	fallback    []byte      // the encoded fallback answer
	budget      time.Duration
	client      *Client
	log         *slog.Logger
	m           *webhook.Meter
	maxInFlight int64
	sendAction  bool
	now         func() time.Time

	mu      sync.RWMutex // guards closed against wg.Add
	closed  bool
	wg      sync.WaitGroup
	running atomic.Int64

	errWindow rtErrorWindow
}

// NewRoutingHandler returns the handler for a call router's routing_url.
// route decides where each call goes; it receives a context that ends with
// the budget and should return promptly when it does. The configuration is
// checked here, so a router cannot start with a short secret, without a
// secret unless AllowUnsigned is set, or without a usable fallback; its
// errors match telephony.ErrInvalidRequest. The RouteFunc's context keeps
// the request's values.
func NewRoutingHandler(route telephony.RouteFunc, opts RoutingOptions) (*RoutingHandler, error) {
	const op = "NewRoutingHandler"
	if route == nil {
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "route is nil")
	}
	m := webhook.NewMeter(telephony.ProviderDialpad, "routing", opts.Logger, opts.Observer, opts.OnError)
	h := &RoutingHandler{
		route:       route,
		budget:      opts.Budget,
		client:      opts.Client,
		log:         m.Log(),
		m:           m,
		maxInFlight: int64(opts.MaxInFlight),
		sendAction:  opts.SendAction,
		now:         time.Now,
	}
	m.InFlight = func() int { return int(h.running.Load()) }
	m.ErrorsLastHour = func() int { return h.errWindow.count(h.now()) }
	switch {
	case h.budget == 0:
		h.budget = DefaultRoutingBudget
	case h.budget < 0 || h.budget > MaxRoutingBudget:
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "Budget %v is outside (0, %v]", h.budget, MaxRoutingBudget)
	}
	if h.maxInFlight <= 0 {
		h.maxInFlight = DefaultRoutingMaxInFlight
	}
	switch {
	case opts.Secret != "":
		v, err := rtNewVerifier(opts.Secret, MinSecretLength)
		if err != nil {
			return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "Secret: %v", err)
		}
		h.verifier = v
	case opts.AllowUnsigned:
		h.log.WarnContext(context.Background(), "dialpad: routing handler accepts unsigned requests; anyone who can reach it can steer calls: configure the router's secret")
	default:
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op,
			"Secret is empty: set the call router's secret (at least %d characters) or AllowUnsigned", MinSecretLength)
	}
	ans, err := rtIDAnswer(opts.Fallback)
	if err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "Fallback: %v", err)
	}
	h.fallback = h.encode(ans)
	return h, nil
}

// ServeHTTP answers one routing request.
func (h *RoutingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	start := h.now()
	h.m.Received()
	d := h.serve(w, r, start, began)
	if d.counted {
		return // the watchdog answered for a late RouteFunc, and counted it
	}
	end := h.now()
	// What Dialpad counts as a routing error: anything but a 200 in time.
	if d.status != http.StatusOK || end.Sub(start) >= rtDialpadDeadline {
		h.errWindow.add(end)
	}
	h.m.Answer(r.Context(), began, d.result, d.reason, d.decision, d.status, d.callID, d.err)
}

// rtDone is how one request was answered.
type rtDone struct {
	status                   int
	result, reason, decision string
	callID                   string
	err                      error
	// counted: the watchdog answered for a late RouteFunc and already
	// counted it (error window included) and reported it.
	counted bool
}

func (h *RoutingHandler) serve(w http.ResponseWriter, r *http.Request, start, began time.Time) rtDone {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return h.reject(w, r, telephony.RejectMethod, http.StatusMethodNotAllowed, "method not allowed", nil)
	}
	body, err := webhook.ReadBody(w, r, webhook.MaxRoutingBody)
	if errors.Is(err, webhook.ErrTooLarge) {
		return h.reject(w, r, telephony.RejectTooLarge, http.StatusRequestEntityTooLarge, "request body too large", nil)
	}
	if err != nil {
		return h.reject(w, r, telephony.RejectMalformed, http.StatusBadRequest, "could not read body", err)
	}
	call, status, err := rtDecodeRequest(h.verifier, body)
	switch status {
	case http.StatusUnauthorized:
		return h.reject(w, r, telephony.RejectUnauthorized, status, "invalid signature", err)
	case http.StatusBadRequest:
		return h.reject(w, r, telephony.RejectMalformed, status, "malformed routing request", err)
	}

	var out rtOutcome
	if status == http.StatusOK {
		// Signed by Dialpad but not fully readable: a 400 would count
		// towards disabling the router, so the call gets the fallback.
		out = rtOutcome{cause: FallbackInvalidRequest, err: err}
	} else {
		// The budget counts from the request's arrival: reading and
		// verifying the body used part of it.
		ctx, cancel := context.WithTimeout(r.Context(), h.budget-h.now().Sub(start))
		defer cancel()
		if f, ok := w.(http.Flusher); ok {
			return h.serveInline(ctx, w, f, r, call, start, began)
		}
		out = h.decide(ctx, call)
	}
	return h.answer(w, r, call, out)
}

// answer writes out — the RouteFunc's target, or the fallback — and
// reports a fallback to OnError; ServeHTTP counts it.
func (h *RoutingHandler) answer(w http.ResponseWriter, r *http.Request, call telephony.InboundCall, out rtOutcome) rtDone {
	answer := h.fallback
	if out.cause == "" {
		answer = h.encode(out.answer)
	}
	d := rtDone{status: http.StatusOK, result: webhook.ResultRouted, decision: "route", callID: call.CallID}
	if out.cause != "" {
		d.result, d.decision, d.err = webhook.ResultFallback, out.cause, out.err
		h.log.WarnContext(r.Context(), "dialpad: routing answered the fallback target",
			"call_id", call.CallID, "cause", out.cause, "error", rtErrString(out.err))
	}
	hdr := w.Header()
	// Shared, never modified value slices: no allocation per answer.
	hdr["Content-Type"], hdr["Cache-Control"] = rtJSONType, rtNoStore
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
	if out.cause != "" {
		h.reportFallback(r.Context(), call, out)
	}
	return d
}

var rtJSONType, rtNoStore = []string{"application/json"}, []string{"no-store"}

// reportFallback tells the log and OnError of a fallback answer.
func (h *RoutingHandler) reportFallback(ctx context.Context, call telephony.InboundCall, out rtOutcome) {
	err := out.err
	if err == nil {
		err = errors.New("fallback: " + out.cause)
	}
	h.m.Report(ctx, &telephony.HandlerError{Call: &call,
		Err: fmt.Errorf("answered the fallback target (%s): %w", out.cause, err)})
}

func (h *RoutingHandler) reject(w http.ResponseWriter, r *http.Request, reason string, status int, msg string, err error) rtDone {
	h.log.WarnContext(r.Context(), "dialpad: routing request rejected", "status", status, "reason", msg, "error", rtErrString(err))
	webhook.Error(w, status, msg)
	if err == nil {
		err = errors.New(msg)
	}
	return rtDone{status: status, result: webhook.ResultRejected, reason: reason, err: err}
}

func rtErrString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// rtOutcome is the result of asking the RouteFunc: an answer, or the cause
// of a fallback.
type rtOutcome struct {
	answer rtAnswer
	cause  FallbackCause
	err    error
}

// decide runs the RouteFunc (and email resolution) in its own goroutine so
// that a late or stuck RouteFunc cannot hold the answer past the budget. The
// goroutine's context is cancelled when decide returns; the channel is
// buffered so a late goroutine still finishes without a reader.
func (h *RoutingHandler) decide(ctx context.Context, call telephony.InboundCall) rtOutcome {
	if err := ctx.Err(); err != nil { // the body took the whole budget
		return rtOutcome{cause: FallbackTimeout, err: err}
	}
	h.mu.RLock()
	if h.closed {
		h.mu.RUnlock()
		return rtOutcome{cause: FallbackUnavailable, err: errors.New("routing handler closed")}
	}
	if h.running.Add(1) > h.maxInFlight {
		h.running.Add(-1)
		h.mu.RUnlock()
		return rtOutcome{cause: FallbackUnavailable, err: errors.New("MaxInFlight RouteFunc calls still running")}
	}
	h.wg.Add(1)
	h.mu.RUnlock()

	ch := make(chan rtOutcome, 1)
	go func() {
		defer h.wg.Done()
		defer h.running.Add(-1)
		ch <- h.run(ctx, call)
	}()
	select {
	case out := <-ch:
		return out
	case <-ctx.Done():
		return rtOutcome{cause: FallbackTimeout, err: ctx.Err()}
	}
}

// run calls the RouteFunc and resolves its target, turning a panic into a
// fallback cause.
func (h *RoutingHandler) run(ctx context.Context, call telephony.InboundCall) (out rtOutcome) {
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "dialpad: RouteFunc panicked", "call_id", call.CallID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out = rtOutcome{cause: FallbackPanic, err: fmt.Errorf("RouteFunc panicked: %v", p)}
		}
	}()
	t, err := h.route(ctx, call)
	if err != nil {
		if ctx.Err() != nil {
			return rtOutcome{cause: FallbackTimeout, err: err}
		}
		return rtOutcome{cause: FallbackError, err: err}
	}
	return h.resolve(ctx, t)
}

// resolve turns a Target into an answer, looking an email up through the
// Client's cached user directory.
func (h *RoutingHandler) resolve(ctx context.Context, t telephony.Target) rtOutcome {
	if t.Type != telephony.TargetUser || t.ID != "" || t.Email == "" {
		ans, err := rtIDAnswer(t)
		if err != nil {
			return rtOutcome{cause: FallbackInvalidTarget, err: err}
		}
		return rtOutcome{answer: ans}
	}
	if h.client == nil || h.client.Users == nil {
		return rtOutcome{cause: FallbackInvalidTarget, err: errors.New("email target needs RoutingOptions.Client")}
	}
	u, err := h.client.Users.FindByEmail(ctx, t.Email)
	switch {
	case err != nil && ctx.Err() != nil:
		return rtOutcome{cause: FallbackTimeout, err: err}
	case err != nil:
		return rtOutcome{cause: FallbackInvalidTarget, err: fmt.Errorf("resolving email target: %w", err)}
	case u == nil || u.ID <= 0:
		return rtOutcome{cause: FallbackInvalidTarget, err: errors.New("email target resolved to no user id")}
	}
	return rtOutcome{answer: rtAnswer{TargetID: u.ID, TargetType: string(telephony.TargetUser)}}
}

// Close stops calling the RouteFunc — later requests get the fallback, still
// with 200 — and waits until every RouteFunc call has returned, late ones
// included, or ctx ends.
func (h *RoutingHandler) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats returns the handler's counters: Received, Routed, Fallbacks by
// cause, Rejected by reason, InFlight (RouteFunc calls still running, late
// ones included) and ErrorsLastHour: how many answers of the last hour
// Dialpad would have counted as routing errors (a status other than 200,
// or slower than 5 s). Rejections of requests that Dialpad did not send
// count too, so the figure is an upper bound. Alert well below 10, the
// number past which Dialpad disables the router (5 is a good threshold).
func (h *RoutingHandler) Stats() telephony.HandlerStats { return h.m.Stats() }

// rtErrorWindow counts events over the last hour in 60 per-minute buckets:
// constant memory whatever the traffic.
type rtErrorWindow struct {
	mu      sync.Mutex
	buckets [60]struct {
		minute int64
		n      int
	}
}

func rtMinute(t time.Time) int64 {
	if m := t.Unix() / 60; m > 0 {
		return m
	}
	return 0
}

func (w *rtErrorWindow) add(t time.Time) {
	m := rtMinute(t)
	w.mu.Lock()
	defer w.mu.Unlock()
	b := &w.buckets[m%60]
	if b.minute != m {
		b.minute, b.n = m, 0
	}
	b.n++
}

// count sums the buckets of the 60 minutes ending with t's minute.
func (w *rtErrorWindow) count(t time.Time) int {
	m := rtMinute(t)
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, b := range w.buckets {
		if b.minute <= m && m-b.minute < 60 {
			n += b.n
		}
	}
	return n
}
