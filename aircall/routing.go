package aircall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// RoutingOptions configures a RoutingHandler.
type RoutingOptions struct {
	// Token is the webhook's token (returned by Aircall when the webhook
	// was created). Required: a body without it is refused with 401.
	Token string
	// Fallback is used when the RouteFunc fails. Zero means the call is
	// left to Aircall's own routing (and the failure reported).
	Fallback telephony.Target
	// OnError receives every failure to route an identified call: the
	// RouteFunc's error, a lookup or transfer error, a full queue. It runs
	// in the routing goroutine (or the request's, for a full queue).
	OnError func(ctx context.Context, call telephony.InboundCall, err error)
	// Logger receives the same failures at error level, and refused
	// requests at warn level. Nil is silent.
	Logger *slog.Logger
	// MaxInFlight bounds the calls being routed at once; a delivery beyond
	// it gets 503 so Aircall redelivers later. Zero means 100.
	MaxInFlight int
	// Timeout bounds the routing of one call (RouteFunc, lookups,
	// transfer). Zero means 30s.
	Timeout time.Duration
	// RouteTimeout bounds the RouteFunc alone, so that a slow rule still
	// leaves time to transfer the call to the Fallback: past it the call
	// goes to the Fallback even if the RouteFunc ignores its context (it
	// then runs on, its answer dropped). Zero means half of Timeout.
	RouteTimeout time.Duration
	// DedupeTTL is how long a call id is remembered to drop redeliveries.
	// Zero means 24h.
	DedupeTTL time.Duration
	// State holds the routing claims: a call is transferred by the one
	// handler that claims it first, in every replica sharing the store
	// (Redis). Nil means state.Default() (a claim of this handler's own in
	// memory). When the store cannot be reached the call is not
	// transferred: it stays with Aircall's own routing, and the failure is
	// reported to OnError; a transfer is never risked twice.
	State *state.Store
}

// RoutingStats counts what a RoutingHandler did.
type RoutingStats struct {
	Received   int64 // requests received
	Routed     int64 // calls transferred
	Ignored    int64 // other events, outbound calls, calls the RouteFunc left alone
	Duplicates int64 // redelivered call.created events dropped
	Rejected   int64 // requests refused: bad token (401), bad body, full queue (503)
	Failed     int64 // calls whose routing failed (reported to OnError)
	Skipped    int64 // calls no longer transferable when re-read (ended, already transferred)
}

// RoutingHandler routes inbound Aircall calls: it receives the call.created
// webhook, asks a RouteFunc where the call goes and transfers it there. It
// is an http.Handler; mount it at the URL of an Aircall webhook subscribed
// to call.created, served by an http.Server such as telephony.NewServer.
//
// For each delivery it checks the body's token (constant time; 401 when
// wrong or missing), answers 200 at once and routes the call in the
// background, at most MaxInFlight at a time (503 beyond, so Aircall
// redelivers). Routing a call means: build a telephony.InboundCall (From is
// the caller's raw_digits in E.164), call the RouteFunc, resolve the Target
// (a user by id, or by email through Users.FindByEmail's cached directory;
// a team; an external number), re-read the call — the webhook body is not
// signed, so only Aircall's own answer is trusted — and transfer it unless
// it has ended or was already transferred. A redelivered call.created is
// transferred once. Outbound calls and other events are acknowledged and
// ignored, and so is a call for which the RouteFunc returns a zero Target
// or telephony.ErrNoRoute (with no Fallback): Aircall's own routing then
// applies. Those are counted in Stats().Ignored, not reported as failures.
type RoutingHandler struct {
	c      *Client
	route  telephony.RouteFunc
	opts   RoutingOptions
	log    *slog.Logger
	runner *webhook.Runner
	claims state.Claims

	received, routed, ignored, duplicates, rejected, failed, skipped atomic.Int64
}

// NewRoutingHandler returns a handler that routes inbound calls with route
// and transfers them through c. Close it on shutdown.
func NewRoutingHandler(c *Client, route telephony.RouteFunc, opts RoutingOptions) (*RoutingHandler, error) {
	switch {
	case c == nil:
		return nil, errors.New("aircall: NewRoutingHandler needs a *Client to transfer calls with")
	case route == nil:
		return nil, errors.New("aircall: NewRoutingHandler needs a RouteFunc")
	case opts.Token == "":
		return nil, errors.New("aircall: RoutingOptions.Token is required: the webhook's token is the only proof a delivery comes from Aircall")
	}
	if !opts.Fallback.IsZero() {
		if err := opts.Fallback.Validate(); err != nil {
			return nil, fmt.Errorf("aircall: RoutingOptions.Fallback: %v", err)
		}
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 100
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.RouteTimeout <= 0 || opts.RouteTimeout > opts.Timeout {
		opts.RouteTimeout = opts.Timeout / 2
	}
	if opts.DedupeTTL <= 0 {
		opts.DedupeTTL = webhook.DefaultDedupeTTL
	}
	return &RoutingHandler{
		c: c, route: route, opts: opts, log: logger(opts.Logger),
		runner: webhook.NewRunner(opts.MaxInFlight, opts.Timeout),
		claims: webhook.HandlerClaims(opts.State),
	}, nil
}

// ServeHTTP implements http.Handler.
func (h *RoutingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.received.Add(1)
	ev, status, msg := readEvent(w, r, h.opts.Token)
	if ev == nil {
		h.rejected.Add(1)
		h.log.Warn("aircall routing: request refused", "status", status, "reason", msg)
		webhook.Error(w, status, msg)
		return
	}
	if ev.Event != "call.created" {
		h.ignored.Add(1)
		w.WriteHeader(http.StatusOK)
		return
	}
	call, err := ev.Call()
	if err != nil {
		h.rejected.Add(1)
		h.log.Warn("aircall routing: request refused", "status", http.StatusBadRequest, "reason", err.Error())
		webhook.Error(w, http.StatusBadRequest, "call.created without a usable call")
		return
	}
	if call.Direction != "inbound" {
		h.ignored.Add(1)
		w.WriteHeader(http.StatusOK)
		return
	}
	in := inboundCall(ev, call)
	first, err := h.claims.Claim(r.Context(), routeKey(in.CallID), h.opts.DedupeTTL)
	if err != nil {
		// Without the shared claim another replica may be transferring
		// this call: leave it to Aircall rather than risk two transfers.
		h.failed.Add(1)
		h.report(r.Context(), in, &telephony.Error{Kind: telephony.ErrUnavailable, Provider: telephony.ProviderAircall, Op: "route",
			Message: "routing claim store unavailable; the call is left to Aircall's own routing", Err: err})
		w.WriteHeader(http.StatusOK)
		return
	}
	if !first {
		h.duplicates.Add(1)
		w.WriteHeader(http.StatusOK)
		return
	}
	if !h.runner.TryGo(func(ctx context.Context) { h.process(ctx, in, call.ID) }) {
		h.release(r.Context(), in.CallID) // the redelivery this 503 asks for must be routed
		h.rejected.Add(1)
		h.report(r.Context(), in, &telephony.Error{Kind: telephony.ErrUnavailable, Provider: telephony.ProviderAircall,
			Op: "route", Message: "routing queue full; answered 503 so that Aircall redelivers"})
		webhook.Error(w, http.StatusServiceUnavailable, "busy, retry later")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// process routes one call in the background.
func (h *RoutingHandler) process(ctx context.Context, in telephony.InboundCall, id int64) {
	defer func() {
		if p := recover(); p != nil {
			h.fail(ctx, in, fmt.Errorf("aircall routing: panic: %v", p))
		}
	}()
	// Bounded even when the RouteFunc ignores its context: the call then
	// goes to the fallback in time and the slot is freed.
	to, err := webhook.Within(ctx, h.opts.RouteTimeout, func(rctx context.Context) (telephony.Target, error) {
		return h.route(rctx, in)
	})
	switch {
	case err != nil && !h.opts.Fallback.IsZero():
		if !errors.Is(err, telephony.ErrNoRoute) {
			h.report(ctx, in, fmt.Errorf("aircall routing: RouteFunc failed, using the fallback: %w", err))
		}
		to = h.opts.Fallback
	case errors.Is(err, telephony.ErrNoRoute):
		h.ignored.Add(1)
		return
	case err != nil:
		h.fail(ctx, in, fmt.Errorf("aircall routing: RouteFunc failed: %w", err))
		return
	case to.IsZero():
		h.ignored.Add(1) // the RouteFunc leaves this call to Aircall
		return
	}
	req, err := h.c.transferRequest(ctx, to)
	if err != nil {
		h.fail(ctx, in, err)
		return
	}
	call, err := h.c.Calls.Get(ctx, id)
	if err != nil {
		h.fail(ctx, in, err)
		return
	}
	if !call.Transferable() {
		h.skipped.Add(1)
		h.log.Info("aircall routing: call no longer transferable, not transferred", "call_id", in.CallID, "status", call.Status)
		return
	}
	if err := h.c.Calls.Transfer(ctx, id, req); err != nil {
		h.fail(ctx, in, err)
		return
	}
	h.routed.Add(1)
	h.log.Debug("aircall routing: call transferred", "call_id", in.CallID, "target", string(to.Type))
}

// fail counts and reports a routing failure. When nothing was transferred
// and the cause is transient, the call id is forgotten so that a
// redelivery of call.created routes the call again.
func (h *RoutingHandler) fail(ctx context.Context, in telephony.InboundCall, err error) {
	h.failed.Add(1)
	if retryable(err) {
		h.release(ctx, in.CallID)
	}
	h.report(ctx, in, err)
}

// routeKey is the claim of one call: fixed size, whatever the id.
func routeKey(callID string) state.Key { return state.KeyOf("aircall-route", callID) }

// release gives the call's claim back, so that a redelivery routes it.
func (h *RoutingHandler) release(ctx context.Context, callID string) {
	if err := h.claims.Release(context.WithoutCancel(ctx), routeKey(callID)); err != nil {
		h.log.Warn("aircall routing: could not release a routing claim; a redelivery of this call will be dropped",
			"call_id", callID, "error", err.Error())
	}
}

func (h *RoutingHandler) report(ctx context.Context, in telephony.InboundCall, err error) {
	h.log.Error("aircall routing failed", "call_id", in.CallID, "error", err.Error())
	if h.opts.OnError != nil {
		safely(h.log, func() { h.opts.OnError(ctx, in, err) })
	}
}

// Stats returns the handler's counters.
func (h *RoutingHandler) Stats() RoutingStats {
	return RoutingStats{
		Received: h.received.Load(), Routed: h.routed.Load(), Ignored: h.ignored.Load(),
		Duplicates: h.duplicates.Load(), Rejected: h.rejected.Load(), Failed: h.failed.Load(), Skipped: h.skipped.Load(),
	}
}

// Close stops accepting calls (later deliveries get 503) and waits for the
// calls being routed, or for ctx to end, in which case their contexts are
// cancelled and Close still waits for them to return.
func (h *RoutingHandler) Close(ctx context.Context) error { return h.runner.Close(ctx) }

// retryable reports whether err is transient and left nothing done: a
// rate limit, an unreachable or failing Aircall, or a timeout before the
// transfer was sent. ErrOutcomeUnknown is not: the transfer may have
// happened.
func retryable(err error) bool {
	if errors.Is(err, telephony.ErrOutcomeUnknown) {
		return false
	}
	return errors.Is(err, telephony.ErrRateLimited) || errors.Is(err, telephony.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// readEvent reads and verifies a webhook delivery. On failure it returns a
// nil event and the status and message to answer with.
func readEvent(w http.ResponseWriter, r *http.Request, token string) (*Event, int, string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, http.StatusMethodNotAllowed, "POST only"
	}
	body, err := webhook.ReadBody(w, r, webhook.MaxEventBody)
	if errors.Is(err, webhook.ErrTooLarge) {
		return nil, http.StatusRequestEntityTooLarge, "body larger than " + strconv.Itoa(webhook.MaxEventBody) + " bytes"
	}
	if err != nil {
		return nil, http.StatusBadRequest, "cannot read the body"
	}
	ev, err := ParseEvent(body, token)
	if errors.Is(err, telephony.ErrInvalidSignature) {
		return nil, http.StatusUnauthorized, "invalid token"
	}
	if err != nil {
		return nil, http.StatusBadRequest, "not an Aircall webhook"
	}
	return ev, 0, ""
}

// safely runs a user hook, so that a panicking hook cannot take the
// background goroutine (and the process) down with it.
func safely(log *slog.Logger, f func()) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("aircall: OnError hook panicked", "panic", fmt.Sprint(p))
		}
	}()
	f()
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
