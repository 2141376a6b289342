package dialpad

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-go/switchboard/internal/jsonx"
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

// FallbackCause says why a RoutingHandler answered the fallback target.
type FallbackCause string

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
	// MaxInFlight bounds the RouteFunc calls still running, including late
	// ones that ignore their context; beyond it requests get the fallback
	// at once. Zero means DefaultRoutingMaxInFlight.
	MaxInFlight int
}

// RoutingHandler is the http.Handler behind a Dialpad call router's
// routing_url. It verifies the request, asks a RouteFunc where the call
// goes and answers {"action":"route","target_id":N,"target_type":"..."}
// with 200 inside its budget — the fallback target when the RouteFunc
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
type RoutingHandler struct {
	route       telephony.RouteFunc
	verifier    *rtVerifier // nil in unsigned mode
	fallback    []byte      // the encoded fallback answer
	budget      time.Duration
	client      *Client
	log         *slog.Logger
	maxInFlight int64
	now         func() time.Time

	mu      sync.RWMutex // guards closed against wg.Add
	closed  bool
	wg      sync.WaitGroup
	running atomic.Int64

	requests, routed atomic.Int64
	fallbacks        [len(rtCauses)]atomic.Int64 // indexed by rtCauseIndex
	rejected         [4]atomic.Int64             // method, too large, unauthorized, malformed
	errWindow        rtErrorWindow
}

// Indexes of RoutingHandler.rejected.
const (
	rtRejMethod = iota
	rtRejTooLarge
	rtRejUnauthorized
	rtRejMalformed
)

var rtCauses = [...]FallbackCause{FallbackError, FallbackTimeout, FallbackPanic, FallbackInvalidTarget, FallbackUnavailable,
	FallbackInvalidRequest}

func rtCauseIndex(c FallbackCause) int {
	for i, x := range rtCauses {
		if x == c {
			return i
		}
	}
	return 0
}

// NewRoutingHandler returns the handler for a call router's routing_url.
// route decides where each call goes; it receives a context that ends with
// the budget and should return promptly when it does. The configuration is
// checked here, so a router cannot start with a short secret, without a
// secret unless AllowUnsigned is set, or without a usable fallback.
func NewRoutingHandler(route telephony.RouteFunc, opts RoutingOptions) (*RoutingHandler, error) {
	const op = "NewRoutingHandler"
	if route == nil {
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "route is nil")
	}
	h := &RoutingHandler{
		route:       route,
		budget:      opts.Budget,
		client:      opts.Client,
		log:         opts.Logger,
		maxInFlight: int64(opts.MaxInFlight),
		now:         time.Now,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
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
		h.log.Warn("dialpad: routing handler accepts unsigned requests; anyone who can reach it can steer calls: configure the router's secret")
	default:
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op,
			"Secret is empty: set the call router's secret (at least %d characters) or AllowUnsigned", MinSecretLength)
	}
	ans, err := rtIDAnswer(opts.Fallback)
	if err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "Fallback: %v", err)
	}
	if h.fallback, err = json.Marshal(ans); err != nil {
		return nil, err
	}
	return h, nil
}

// rtAnswer is the routing answer. "action":"route" is the variant quoted on
// Dialpad's forum; the documented fields are target_id and target_type.
type rtAnswer struct {
	Action     string `json:"action"`
	TargetID   int64  `json:"target_id"`
	TargetType string `json:"target_type"`
}

// appendJSON appends the answer as json.Marshal writes it, without
// reflection. TargetType is one of the four plain words rtIDAnswer allows;
// anything else is escaped through encoding/json.
func (a rtAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"action":`...)
	b = rtAppendString(b, a.Action)
	b = append(b, `,"target_id":`...)
	b = strconv.AppendInt(b, a.TargetID, 10)
	b = append(b, `,"target_type":`...)
	b = rtAppendString(b, a.TargetType)
	return append(b, '}')
}

func rtAppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// rtIDAnswer builds the answer for a target named by id.
func rtIDAnswer(t telephony.Target) (rtAnswer, error) {
	switch t.Type {
	case telephony.TargetUser, telephony.TargetDepartment, telephony.TargetCallCenter, telephony.TargetOffice:
	default:
		return rtAnswer{}, fmt.Errorf("target type %q cannot receive a routed call (want user, department, callcenter or office)", t.Type)
	}
	if t.ID == "" {
		return rtAnswer{}, fmt.Errorf("%s target has no ID", t.Type)
	}
	id, err := strconv.ParseInt(t.ID, 10, 64)
	if err != nil || id <= 0 {
		return rtAnswer{}, fmt.Errorf("%s target ID %q is not a positive integer", t.Type, t.ID)
	}
	return rtAnswer{Action: "route", TargetID: id, TargetType: string(t.Type)}, nil
}

// ServeHTTP answers one routing request.
func (h *RoutingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	h.requests.Add(1)
	status, answered := h.serve(w, r, start)
	if answered.IsZero() {
		answered = h.now()
	}
	// What Dialpad counts as a routing error: anything but a 200 in time.
	if status != http.StatusOK || answered.Sub(start) >= rtDialpadDeadline {
		h.errWindow.add(answered)
	}
}

// serve answers the request and returns the status and, when the answer
// went out before serve returned (a late RouteFunc answered for by the
// fallback), when it did; a zero time means "on return".
func (h *RoutingHandler) serve(w http.ResponseWriter, r *http.Request, start time.Time) (int, time.Time) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return h.reject(w, rtRejMethod, http.StatusMethodNotAllowed, "method not allowed", nil), time.Time{}
	}
	body, err := webhook.ReadBody(w, r, webhook.MaxRoutingBody)
	if errors.Is(err, webhook.ErrTooLarge) {
		return h.reject(w, rtRejTooLarge, http.StatusRequestEntityTooLarge, "request body too large", nil), time.Time{}
	}
	if err != nil {
		return h.reject(w, rtRejMalformed, http.StatusBadRequest, "could not read body", err), time.Time{}
	}
	call, status, err := rtDecodeRequest(h.verifier, body)
	switch status {
	case http.StatusUnauthorized:
		return h.reject(w, rtRejUnauthorized, status, "invalid signature", err), time.Time{}
	case http.StatusBadRequest:
		return h.reject(w, rtRejMalformed, status, "malformed routing request", err), time.Time{}
	}

	var out rtOutcome
	if status == http.StatusOK {
		// Signed by Dialpad but not fully readable: a 400 would count
		// towards disabling the router, so the call gets the fallback.
		out = rtOutcome{cause: FallbackInvalidRequest, err: err}
	} else {
		// The budget counts from the request's arrival: reading and
		// verifying the body used part of it.
		remaining := h.budget - h.now().Sub(start)
		ctx, cancel := context.WithTimeout(r.Context(), remaining)
		defer cancel()
		if f, ok := w.(http.Flusher); ok {
			return h.serveInline(ctx, remaining, w, f, r, call)
		}
		out = h.decide(ctx, call)
	}
	h.answer(w, call, out)
	return http.StatusOK, time.Time{}
}

// serveInline calls the RouteFunc in the request's goroutine — no
// goroutine handoff on the common path — and keeps the answer inside the
// budget with a watchdog: when the budget is spent first, the watchdog
// writes the fallback answer, complete
// (Content-Length) and flushed, with "Connection: close" on HTTP/1 so that
// no other request waits on a connection whose handler is still inside a
// late RouteFunc. Whichever of the two answers first wins; the other does
// nothing, and serveInline does not return while the watchdog is writing,
// so w is never used after ServeHTTP returns. It is used only when w can
// flush; otherwise the RouteFunc runs in its own goroutine (decide).
func (h *RoutingHandler) serveInline(ctx context.Context, remaining time.Duration, w http.ResponseWriter, f http.Flusher, r *http.Request, call telephony.InboundCall) (int, time.Time) {
	wd := &rtWatchdog{h: h, ctx: ctx, w: w, f: f, http1: r.ProtoMajor == 1, callID: call.CallID}
	// A timer of its own rather than context.AfterFunc(ctx, ...), whose
	// registration with ctx costs more than a runtime timer.
	timer := time.AfterFunc(remaining, wd.fire)
	stop := timer.Stop
	out := h.decideInline(ctx, call)
	if err := ctx.Err(); err != nil && out.cause == "" {
		// Past the budget: the fallback, as if the watchdog had answered.
		out = rtOutcome{cause: FallbackTimeout, err: err}
	}
	stop()
	wd.mu.Lock()
	late, at := wd.answered, wd.lateAt
	wd.answered = true
	wd.mu.Unlock()
	if late {
		return http.StatusOK, at
	}
	h.answer(w, call, out)
	return http.StatusOK, time.Time{}
}

// rtWatchdog answers for a RouteFunc that is still running when its
// context ends (serveInline).
type rtWatchdog struct {
	h      *RoutingHandler
	ctx    context.Context
	w      http.ResponseWriter
	f      http.Flusher
	http1  bool
	callID string

	mu       sync.Mutex
	answered bool      // an answer was written, or is being written by serveInline
	lateAt   time.Time // when fire wrote the fallback
}

func (wd *rtWatchdog) fire() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.answered {
		return
	}
	wd.answered = true
	h := wd.h
	h.fallbacks[rtCauseIndex(FallbackTimeout)].Add(1)
	h.log.Warn("dialpad: routing answered the fallback target",
		"call_id", wd.callID, "cause", string(FallbackTimeout), "error", rtErrString(wd.ctx.Err()))
	hdr := wd.w.Header()
	hdr["Content-Type"], hdr["Cache-Control"] = rtJSONType, rtNoStore
	hdr.Set("Content-Length", strconv.Itoa(len(h.fallback)))
	if wd.http1 {
		hdr.Set("Connection", "close")
	}
	wd.w.WriteHeader(http.StatusOK)
	_, _ = wd.w.Write(h.fallback)
	wd.f.Flush()
	wd.lateAt = h.now()
}

// answer writes out: the RouteFunc's target, or the fallback.
func (h *RoutingHandler) answer(w http.ResponseWriter, call telephony.InboundCall, out rtOutcome) {
	answer := h.fallback
	if out.cause == "" {
		answer = out.answer.appendJSON(make([]byte, 0, 80))
	}
	if out.cause != "" {
		h.fallbacks[rtCauseIndex(out.cause)].Add(1)
		h.log.Warn("dialpad: routing answered the fallback target",
			"call_id", call.CallID, "cause", string(out.cause), "error", rtErrString(out.err))
	} else {
		h.routed.Add(1)
	}
	hdr := w.Header()
	// Shared, never modified value slices: no allocation per answer.
	hdr["Content-Type"], hdr["Cache-Control"] = rtJSONType, rtNoStore
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

var rtJSONType, rtNoStore = []string{"application/json"}, []string{"no-store"}

func (h *RoutingHandler) reject(w http.ResponseWriter, idx, status int, msg string, err error) int {
	h.rejected[idx].Add(1)
	h.log.Warn("dialpad: routing request rejected", "status", status, "reason", msg, "error", rtErrString(err))
	webhook.Error(w, status, msg)
	return status
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

// decideInline is decide without a goroutine: serveInline's watchdog
// answers when the RouteFunc is late.
func (h *RoutingHandler) decideInline(ctx context.Context, call telephony.InboundCall) rtOutcome {
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
	defer h.wg.Done()
	defer h.running.Add(-1)
	return h.run(ctx, call)
}

// run calls the RouteFunc and resolves its target, turning a panic into a
// fallback cause.
func (h *RoutingHandler) run(ctx context.Context, call telephony.InboundCall) (out rtOutcome) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("dialpad: RouteFunc panicked", "call_id", call.CallID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
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
	return rtOutcome{answer: rtAnswer{Action: "route", TargetID: u.ID, TargetType: string(telephony.TargetUser)}}
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

// rtRequest is the routing request's JSON: the JWT's claims, or the body of
// an unsigned request. Ids arrive as numbers or numeric strings.
type rtRequest struct {
	DateStarted    rtMillis     `json:"date_started"`
	CallID         jsonx.Int64  `json:"call_id"`
	ExternalNumber jsonx.String `json:"external_number"`
	InternalNumber jsonx.String `json:"internal_number"`
	ContactID      jsonx.String `json:"contact_id"`
	ContactType    jsonx.String `json:"contact_type"`
}

// rtMillis is a time in Unix milliseconds, read leniently: a JSON integer,
// a float (truncated), a numeric string of either, null or "" (zero).
type rtMillis int64

// UnmarshalJSON implements json.Unmarshaler.
func (m *rtMillis) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if v, ok := rtDigits(b); ok { // the usual form, read without allocating
		*m = rtMillis(v)
		return nil
	}
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	if s == "" || s == "null" {
		*m = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*m = rtMillis(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	// float64(math.MaxInt64) is 2^63: the bound excludes it.
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return fmt.Errorf("date %.30q is not a number of milliseconds", s)
	}
	*m = rtMillis(f)
	return nil
}

// rtDigits reads a non-negative decimal integer of at most 18 digits.
func rtDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// rtDecodeRequest verifies and decodes a routing request body. It returns
// 401 when the body is not a JWT verified with the secret, 400 when it
// cannot be decoded, and 0 on success. A verified JWT whose call_id reads
// but whose other claims do not returns 200, an error and a call holding
// only its id: the caller answers it with the fallback.
func rtDecodeRequest(v *rtVerifier, body []byte) (telephony.InboundCall, int, error) {
	if v != nil {
		// The common case in one pass: verify the token and decode its
		// claims (the routing fields and exp/nbf/iat) together.
		var plain rtPlainRequest
		err := v.verifyInto(body, &plain)
		if err == nil {
			req := plain.request()
			return req.call()
		}
		if errors.Is(err, jwt.ErrTokenMalformed) {
			// Ids as strings, a date as a float...: the lenient types.
			var claims rtSignedRequest
			if err = v.verifyInto(body, &claims); err == nil {
				return claims.rtRequest.call()
			}
		}
		if !errors.Is(err, jwt.ErrTokenMalformed) {
			return telephony.InboundCall{}, http.StatusUnauthorized, err
		}
		// The claims did not decode (or the token is malformed): the
		// two-step path below tells a forged token from a verified one
		// whose call_id is readable.
	}
	payload, err := rtPayload(v, body)
	if err != nil {
		if v != nil {
			return telephony.InboundCall{}, http.StatusUnauthorized, err
		}
		return telephony.InboundCall{}, http.StatusBadRequest, err
	}
	var req rtRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		err = fmt.Errorf("%w: %w", errRtMalformed, err)
		var id struct {
			CallID jsonx.Int64 `json:"call_id"`
		}
		if v != nil && json.Unmarshal(payload, &id) == nil && id.CallID > 0 {
			return telephony.InboundCall{Provider: telephony.ProviderDialpad, CallID: strconv.FormatInt(int64(id.CallID), 10)},
				http.StatusOK, err
		}
		return telephony.InboundCall{}, http.StatusBadRequest, err
	}
	return req.call()
}

// rtSignedRequest are a signed routing request's claims decoded in one pass:
// the routing fields, and the registered claims the parser validates.
type rtSignedRequest struct {
	rtRequest
	jwt.RegisteredClaims
}

// rtPlainRequest is the form Dialpad sends — numbers as numbers — with the
// registered claims the parser validates, decoded with plain Go types (no
// custom decoder per field). A token whose claims do not fit it is decoded
// again as an rtSignedRequest, whose types are lenient.
type rtPlainRequest struct {
	jwt.RegisteredClaims
	DateStarted    int64  `json:"date_started"`
	CallID         int64  `json:"call_id"`
	ExternalNumber string `json:"external_number"`
	InternalNumber string `json:"internal_number"`
	ContactID      string `json:"contact_id"`
	ContactType    string `json:"contact_type"`
}

func (p *rtPlainRequest) request() rtRequest {
	return rtRequest{DateStarted: rtMillis(p.DateStarted), CallID: jsonx.Int64(p.CallID),
		ExternalNumber: jsonx.String(p.ExternalNumber), InternalNumber: jsonx.String(p.InternalNumber),
		ContactID: jsonx.String(p.ContactID), ContactType: jsonx.String(p.ContactType)}
}

// call turns a decoded routing request into the portable call; it answers
// 400 without a call_id.
func (req *rtRequest) call() (telephony.InboundCall, int, error) {
	if req.CallID <= 0 {
		return telephony.InboundCall{}, http.StatusBadRequest, fmt.Errorf("%w: no call_id", errRtMalformed)
	}
	call := telephony.InboundCall{
		Provider:    telephony.ProviderDialpad,
		CallID:      strconv.FormatInt(int64(req.CallID), 10),
		From:        string(req.ExternalNumber),
		To:          string(req.InternalNumber),
		ContactID:   string(req.ContactID),
		ContactType: string(req.ContactType),
	}
	if req.DateStarted > 0 {
		call.StartedAt = time.UnixMilli(int64(req.DateStarted)).UTC()
	}
	return call, 0, nil
}

// RoutingStats are a RoutingHandler's counters since it was built.
type RoutingStats struct {
	// Requests is every request received.
	Requests int64
	// Routed is requests answered with the RouteFunc's target.
	Routed int64
	// Fallbacks is requests answered with the fallback target, by cause.
	Fallbacks map[FallbackCause]int64
	// Rejected is requests refused with 4xx: "method", "too_large",
	// "unauthorized", "malformed".
	Rejected map[string]int64
	// ErrorsLastHour is how many answers of the last hour Dialpad would
	// have counted as routing errors: a status other than 200, or slower
	// than 5 s. Rejections of requests that Dialpad did not send count
	// too, so the figure is an upper bound. Alert well below 10, the
	// number past which Dialpad disables the router (5 is a good
	// threshold).
	ErrorsLastHour int
	// InFlight is RouteFunc calls still running, late ones included.
	InFlight int64
}

// FallbackTotal returns the sum of Fallbacks.
func (s RoutingStats) FallbackTotal() int64 { return rtSum(s.Fallbacks) }

// RejectedTotal returns the sum of Rejected.
func (s RoutingStats) RejectedTotal() int64 { return rtSum(s.Rejected) }

func rtSum[K comparable](m map[K]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// Stats returns the handler's counters.
func (h *RoutingHandler) Stats() RoutingStats {
	s := RoutingStats{
		Requests:       h.requests.Load(),
		Routed:         h.routed.Load(),
		Fallbacks:      make(map[FallbackCause]int64, len(rtCauses)),
		Rejected:       make(map[string]int64, len(h.rejected)),
		ErrorsLastHour: h.errWindow.count(h.now()),
		InFlight:       h.running.Load(),
	}
	for i, c := range rtCauses {
		s.Fallbacks[c] = h.fallbacks[i].Load()
	}
	for i, name := range [...]string{"method", "too_large", "unauthorized", "malformed"} {
		s.Rejected[name] = h.rejected[i].Load()
	}
	return s
}

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
