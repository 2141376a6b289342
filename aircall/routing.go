package aircall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// RoutingOptions configures NewRoutingHandler.
type RoutingOptions struct {
	// Secret is the webhook's token (returned by Aircall when the webhook
	// was created). Required: a body without it is refused with 401.
	Secret string
	// Client transfers the calls (and resolves email targets through its
	// cached directory). Required.
	Client *Client
	// Fallback is used when the RouteFunc fails. Zero means the call is
	// left to Aircall's own routing (and the failure reported).
	Fallback telephony.Target
	// Events, when set, also receives every verified call event of this
	// webhook (call.created included), as the WebhookHandler would hand it
	// (deduplicated, durable with a State that has an event log): one
	// Aircall webhook URL then serves routing and event recording.
	Events telephony.EventFunc
	// Stream overrides the durable stream of Events (default
	// "aircall:routing").
	Stream string
	// OnError receives every failure after a delivery was verified: the
	// RouteFunc's error, a lookup or transfer error, work dropped, and the
	// Events function's errors and panics. It runs in the goroutine that
	// failed.
	OnError func(ctx context.Context, err *telephony.HandlerError)
	// Observer is told of each answered request; nil costs nothing. The
	// call is routed after the answer, so a Delivery's Decision is empty:
	// Stats counts Routed, Fallbacks and Failed.
	Observer telephony.Observer
	// Logger receives the same failures at error level, and refused
	// requests at warn level. Nil is silent.
	Logger *slog.Logger
	// MaxInFlight bounds the calls being routed (and, separately, the
	// events being handled) at once. Zero means 100.
	MaxInFlight int
	// MaxQueued is how many more calls (and events) may wait for a slot.
	// Beyond it a delivery is still answered 200 — Aircall does not retry
	// and deactivates webhooks that fail — and the work is dropped:
	// counted in Stats().Dropped, logged and reported to OnError. Zero
	// means 4 × MaxInFlight.
	MaxQueued int
	// Timeout bounds the routing of one call (RouteFunc, lookups,
	// transfer), and one Events call. Zero means 30s.
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

// RoutingHandler routes inbound Aircall calls: it receives the call.created
// webhook, asks a RouteFunc where the call goes and transfers it there. It
// is an http.Handler; mount it at the URL of an Aircall webhook subscribed
// to call.created (and, with RoutingOptions.Events, to the other call
// events), served by an http.Server such as telephony.NewServer.
//
// For each delivery it checks the body's token (constant time; 401 when
// wrong or missing) and answers 200 at once, for every genuine delivery:
// Aircall does not document retries and deactivates webhooks that keep
// failing, so a refusal would lose the call anyway. It routes the call in
// the background with the request's context values, at most MaxInFlight
// at a time with MaxQueued waiting; beyond that the call is dropped (left
// to Aircall's own routing), counted in Stats().Dropped, logged and
// reported to OnError. Routing a call means: build a telephony.InboundCall
// (From is the caller's raw_digits in E.164), call the RouteFunc, resolve
// the Target (a user by id, or by email through Users.FindByEmail's cached
// directory; a team; an external number), re-read the call — the webhook
// body is not signed, so only Aircall's own answer is trusted — and
// transfer it unless it has ended or was already transferred. A
// redelivered call.created is transferred once. Outbound calls and other
// events are acknowledged and ignored, and so is a call for which the
// RouteFunc returns a zero Target or telephony.ErrNoRoute (with no
// Fallback): Aircall's own routing then applies. Those are counted in
// Stats().Ignored, not reported as failures. Stats().Routed counts
// transfers, to the Fallback too (whose causes are in Stats().Fallbacks).
type RoutingHandler struct {
	c      *Client
	route  telephony.RouteFunc
	opts   RoutingOptions
	m      *webhook.Meter
	log    *slog.Logger
	runner *webhook.Runner
	claims state.Claims
	events *webhook.Inbox // nil without RoutingOptions.Events
}

// NewRoutingHandler returns a handler that routes inbound calls with route
// and transfers them through opts.Client. Close it on shutdown. Errors
// match telephony.ErrInvalidRequest.
func NewRoutingHandler(route telephony.RouteFunc, opts RoutingOptions) (*RoutingHandler, error) {
	const op = "NewRoutingHandler"
	switch {
	case route == nil:
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op, "route is nil")
	case opts.Client == nil:
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op, "RoutingOptions.Client is required to transfer calls")
	case opts.Secret == "":
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op,
			"RoutingOptions.Secret (the webhook's token) is required: it is the only proof a delivery comes from Aircall")
	}
	if !opts.Fallback.IsZero() {
		if err := opts.Fallback.Validate(); err != nil {
			return nil, telephony.InvalidArgument(telephony.ProviderAircall, op, "RoutingOptions.Fallback: %v", err)
		}
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 100
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = 4 * opts.MaxInFlight
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
	m := webhook.NewMeter(telephony.ProviderAircall, "routing", opts.Logger, opts.Observer, opts.OnError)
	h := &RoutingHandler{
		c: opts.Client, route: route, opts: opts, m: m, log: m.Log(),
		runner: webhook.NewQueuedRunner(opts.MaxInFlight, opts.MaxQueued, opts.Timeout),
		claims: webhook.HandlerClaims(opts.State),
	}
	if opts.Events != nil {
		h.events = webhook.NewInbox(webhook.InboxConfig{Provider: telephony.ProviderAircall, Name: "routing", Stream: opts.Stream,
			Fn: opts.Events, Meter: m, Store: opts.State, MaxInFlight: opts.MaxInFlight, Queue: opts.MaxQueued,
			Timeout: opts.Timeout, DedupeTTL: opts.DedupeTTL, NeverRefuse: true})
	}
	m.InFlight = func() int {
		n := h.runner.InFlight()
		if h.events != nil {
			n += h.events.InFlight()
		}
		return n
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *RoutingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	h.m.Received()
	ev, status, reason, err := readEvent(w, r, h.opts.Secret)
	if ev == nil {
		h.log.WarnContext(ctx, "aircall routing: request refused", "status", status, "reason", err.Error())
		webhook.Error(w, status, err.Error())
		h.m.Answer(ctx, start, webhook.ResultRejected, reason, "", status, "", err)
		return
	}
	w.WriteHeader(http.StatusOK) // every genuine delivery: Aircall does not retry
	result, callID, err := h.take(ctx, ev)
	h.m.Answer(ctx, start, result, "", "", http.StatusOK, callID, err)
}

// take does what a verified delivery asks and returns the request's result.
func (h *RoutingHandler) take(ctx context.Context, ev *Event) (string, string, error) {
	if ev.Event == "" {
		return dropUndecodable(ctx, h.m, ev, errors.New("the envelope has no event name"))
	}
	if !ev.IsCall() {
		return webhook.ResultIgnored, "", nil
	}
	call, err := ev.Call()
	if err != nil {
		return dropUndecodable(ctx, h.m, ev, err)
	}
	result := webhook.ResultIgnored
	var rerr error
	if h.events != nil {
		ce := ev.CallEvent(call)
		ce.Raw = rawEvent(ev)
		switch out, err := h.events.Take(ctx, ce, dedupeKey(ev, ce.CallID)); out {
		case webhook.Duplicate:
			result = webhook.ResultDuplicate
		case webhook.Dropped:
			result, rerr = webhook.ResultDropped, err
		default:
			result = webhook.ResultAccepted
		}
	}
	if ev.Event != "call.created" || call.Direction != "inbound" {
		return result, strconv.FormatInt(call.ID, 10), rerr
	}
	in := inboundCall(ev, call)
	res, err := h.takeCall(ctx, in, call.ID)
	if res == webhook.ResultDropped || result != webhook.ResultDropped {
		result, rerr = res, err
	}
	return result, in.CallID, rerr
}

// takeCall claims an inbound call and queues its routing.
func (h *RoutingHandler) takeCall(ctx context.Context, in telephony.InboundCall, id int64) (string, error) {
	// The claim outlives the request (the call is routed after the 200):
	// a client that hung up must not make it look like a store failure.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	first, err := h.claims.Claim(cctx, routeKey(in.CallID), h.opts.DedupeTTL)
	cancel()
	if err != nil {
		// Without the shared claim another replica may be transferring
		// this call: leave it to Aircall rather than risk two transfers.
		h.m.Failed.Add(1)
		err = &telephony.Error{Kind: telephony.ErrUnavailable, Provider: telephony.ProviderAircall, Op: "route",
			Message: "routing claim store unavailable; the call is left to Aircall's own routing", Err: err}
		h.m.Report(ctx, &telephony.HandlerError{Call: &in, Err: err})
		return webhook.ResultFailed, err
	}
	if !first {
		return webhook.ResultDuplicate, nil
	}
	if !h.runner.TryGo(ctx, func(ctx context.Context) { h.process(ctx, in, id) }) {
		h.release(ctx, in.CallID)
		err := &telephony.Error{Kind: telephony.ErrUnavailable, Provider: telephony.ProviderAircall, Op: "route",
			Message: "routing queue full (MaxInFlight + MaxQueued) or handler closed; the call is left to Aircall's own routing"}
		h.m.Report(ctx, &telephony.HandlerError{Call: &in, Err: err})
		return webhook.ResultDropped, err
	}
	return webhook.ResultAccepted, nil
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
		cause := "error"
		switch {
		case errors.Is(err, telephony.ErrNoRoute):
			cause = "no_route"
		case errors.Is(err, webhook.ErrLate):
			cause = "timeout"
		default:
			h.m.Report(ctx, &telephony.HandlerError{Call: &in, Err: fmt.Errorf("aircall routing: RouteFunc failed, using the fallback: %w", err)})
		}
		if cause == "timeout" {
			h.m.Report(ctx, &telephony.HandlerError{Call: &in, Err: fmt.Errorf("aircall routing: RouteFunc late, using the fallback: %w", err)})
		}
		h.m.Count(webhook.ResultFallback, "", cause)
		to = h.opts.Fallback
	case errors.Is(err, telephony.ErrNoRoute):
		h.m.Count(webhook.ResultIgnored, "", "")
		return
	case err != nil:
		h.fail(ctx, in, fmt.Errorf("aircall routing: RouteFunc failed: %w", err))
		return
	case to.IsZero():
		h.m.Count(webhook.ResultIgnored, "", "") // the RouteFunc leaves this call to Aircall
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
		h.m.Skipped.Add(1)
		h.log.InfoContext(ctx, "aircall routing: call no longer transferable, not transferred", "call_id", in.CallID, "status", call.Status)
		return
	}
	if err := h.c.Calls.Transfer(ctx, id, req); err != nil {
		h.fail(ctx, in, err)
		return
	}
	h.m.Routed.Add(1)
	h.log.DebugContext(ctx, "aircall routing: call transferred", "call_id", in.CallID, "target", string(to.Type))
}

// fail counts and reports a routing failure. When nothing was transferred
// and the cause is transient, the call id is forgotten so that a
// redelivery of call.created routes the call again.
func (h *RoutingHandler) fail(ctx context.Context, in telephony.InboundCall, err error) {
	h.m.Failed.Add(1)
	if retryable(err) {
		h.release(ctx, in.CallID)
	}
	h.m.Report(ctx, &telephony.HandlerError{Call: &in, Err: err})
}

// routeKey is the claim of one call: fixed size, whatever the id.
func routeKey(callID string) state.Key { return state.KeyOf("aircall-route", callID) }

// release gives the call's claim back, so that a redelivery routes it.
func (h *RoutingHandler) release(ctx context.Context, callID string) {
	if err := h.claims.Release(context.WithoutCancel(ctx), routeKey(callID)); err != nil {
		h.log.WarnContext(ctx, "aircall routing: could not release a routing claim; a redelivery of this call will be dropped",
			"call_id", callID, "error", err.Error())
	}
}

// Stats returns the handler's counters (those of Events included).
func (h *RoutingHandler) Stats() telephony.HandlerStats { return h.m.Stats() }

// Close stops accepting calls (later deliveries are answered 200 and their
// work dropped) and waits for the calls being routed and the events being
// handled, or for ctx to end, in which case their contexts are cancelled.
func (h *RoutingHandler) Close(ctx context.Context) error {
	err := h.runner.Close(ctx)
	if h.events != nil {
		err = errors.Join(err, h.events.Close(ctx))
	}
	return err
}

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

// dropUndecodable reports a genuine delivery (its token verified) that
// cannot be decoded: answered 200 all the same, since Aircall does not
// retry and deactivates failing webhooks; its work is dropped.
func dropUndecodable(ctx context.Context, m *webhook.Meter, ev *Event, err error) (string, string, error) {
	err = fmt.Errorf("genuine %q delivery dropped: %w", ev.Event, err)
	m.Report(ctx, &telephony.HandlerError{Err: err})
	return webhook.ResultDropped, "", err
}

// readEvent reads and verifies a webhook delivery. On failure it returns a
// nil event, and the status, rejection reason and error to answer with. A
// delivery whose token verifies but whose envelope does not decode returns
// an Event holding only its token, for the caller to count as dropped.
func readEvent(w http.ResponseWriter, r *http.Request, token string) (*Event, int, string, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, http.StatusMethodNotAllowed, telephony.RejectMethod, errors.New("POST only")
	}
	body, err := webhook.ReadBody(w, r, webhook.MaxEventBody)
	if errors.Is(err, webhook.ErrTooLarge) {
		return nil, http.StatusRequestEntityTooLarge, telephony.RejectTooLarge,
			errors.New("body larger than " + strconv.Itoa(webhook.MaxEventBody) + " bytes")
	}
	if err != nil {
		return nil, http.StatusBadRequest, telephony.RejectMalformed, errors.New("cannot read the body")
	}
	ev, err := ParseEvent(body, token)
	if errors.Is(err, telephony.ErrInvalidSignature) {
		return nil, http.StatusUnauthorized, telephony.RejectUnauthorized, errors.New("invalid token")
	}
	if err != nil {
		if genuine(body, token) {
			return &Event{Token: token}, 0, "", nil
		}
		return nil, http.StatusBadRequest, telephony.RejectMalformed, errors.New("not an Aircall webhook")
	}
	return ev, 0, "", nil
}
