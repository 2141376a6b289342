package dialpad

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// Defaults of WebhookOptions.
const (
	DefaultWebhookMaxInFlight = 64
	DefaultWebhookTimeout     = 30 * time.Second
)

// WebhookOptions configures NewWebhookHandler.
type WebhookOptions struct {
	// Secret is the webhook's secret: every delivery must then be an HS256
	// JWT signed with it. Required unless AllowUnsigned.
	Secret string
	// AllowUnsigned accepts plain JSON events when Secret is empty, as
	// Dialpad sends them for a webhook created without a secret. Anyone who
	// can reach the URL can then forge events; a warning is logged.
	AllowUnsigned bool
	// Logger receives rejections, EventFunc errors and panics. Nil is silent.
	Logger *slog.Logger
	// OnError receives every failure after a delivery was verified: the
	// EventFunc's errors and panics, deliveries answered 503 because the
	// handler was busy or closed.
	OnError func(ctx context.Context, err *telephony.HandlerError)
	// Observer is told of each answered request; nil costs nothing.
	Observer telephony.Observer
	// Sync runs the EventFunc before answering: 200 once it returned nil,
	// 500 when it failed (the delivery is then forgotten, so that
	// Dialpad's redelivery, about 2, 4 and 8 s later, is processed). The
	// durable log is not used in Sync mode.
	Sync bool
	// MaxInFlight bounds the events being processed; beyond it deliveries
	// get 503, which Dialpad retries for call events (about 2, 4 and 8 s
	// later). Zero means DefaultWebhookMaxInFlight.
	MaxInFlight int
	// Timeout bounds one EventFunc call through its context. Zero means
	// DefaultWebhookTimeout.
	Timeout time.Duration
	// DedupeTTL is how long a delivery is remembered to drop redeliveries;
	// zero means 24 h.
	DedupeTTL time.Duration
	// DedupeMax is ignored: the state store bounds what it remembers
	// (state.MaxMemoryClaims in memory, Redis's own memory otherwise).
	//
	// Deprecated: kept so existing code compiles.
	DedupeMax int
	// State holds dedupe keys and, when it has an event log (Redis), makes
	// events durable: appended to the stream Stream (default
	// "dialpad:webhook") before Dialpad gets its 200, processed by any
	// replica, retried, dead-lettered after bounded tries. Nil means
	// state.Default(). When the log cannot be reached a delivery is
	// answered 503, which Dialpad retries.
	State *state.Store
	// Stream overrides the durable stream's name.
	Stream string
}

// WebhookHandler receives Dialpad call events (a webhook subscribed to call
// states) and hands each one, once, to an EventFunc. It verifies the JWT
// before parsing, acknowledges at once and runs the EventFunc in the
// background: an EventFunc error is logged, never turned into a 4xx, which
// Dialpad would not retry. It is safe for concurrent use; Close drains it.
type WebhookHandler struct {
	verifier *rtVerifier
	log      *slog.Logger
	m        *webhook.Meter
	inbox    *webhook.Inbox
}

// NewWebhookHandler returns the handler for the hook_url of a Dialpad
// webhook carrying call events. opts.Secret is the webhook's secret: every
// delivery must then be an HS256 JWT signed with it (401 otherwise, and the
// algorithm is pinned; exp and iat are checked when present, see
// RoutingHandler). An empty secret is refused unless opts.AllowUnsigned is
// set. Errors match telephony.ErrInvalidRequest. The EventFunc runs in the
// background with the request's context values (with opts.Sync, before
// the answer); CallEvent.Raw is the JWT's payload.
//
// Dialpad call events carry no delivery id, so a redelivery is recognised by
// call_id, state and event_timestamp (by the exact payload when there is no
// event_timestamp); that key is also CallEvent.DeliveryID. Call states map
// to telephony statuses: calling, ringing and preanswer to StatusRinging;
// connected (and merged, barge, takeover, monitor, eavesdrop) to
// StatusInProgress; hangup to StatusCompleted; missed to StatusMissed;
// voicemail and voicemail_uploaded to StatusVoicemail; hold and parked to
// StatusOnHold; queued to StatusQueued; blocked to StatusFailed; the rest
// (recording, transcription, csat, ...) to StatusUnknown, with the state
// name in CallEvent.Type.
//
// The EventFunc's context also holds Dialpad's own event
// (CallEventFromContext): the fields that join an agent's leg to the
// customer's call (entry_point_call_id, master_call_id, operator_call_id),
// the contact, custom_data and is_transferred.
func NewWebhookHandler(fn telephony.EventFunc, opts WebhookOptions) (*WebhookHandler, error) {
	const op = "NewWebhookHandler"
	if fn == nil {
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "fn is nil")
	}
	secret := opts.Secret
	m := webhook.NewMeter(telephony.ProviderDialpad, "webhook", opts.Logger, opts.Observer, opts.OnError)
	h := &WebhookHandler{log: m.Log(), m: m}
	switch {
	case secret != "":
		v, err := rtNewVerifier(secret, 1)
		if err != nil {
			return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "secret: %v", err)
		}
		if len(secret) < MinSecretLength {
			h.log.WarnContext(context.Background(), "dialpad: webhook secret is shorter than 32 characters; a short HMAC key can be guessed")
		}
		h.verifier = v
	case opts.AllowUnsigned:
		h.log.WarnContext(context.Background(), "dialpad: webhook handler accepts unsigned events; anyone who can reach it can forge them: give the webhook a secret")
	default:
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op,
			"secret is empty: give the webhook a secret or set AllowUnsigned")
	}
	limit, timeout := opts.MaxInFlight, opts.Timeout
	if limit <= 0 {
		limit = DefaultWebhookMaxInFlight
	}
	if timeout <= 0 {
		timeout = DefaultWebhookTimeout
	}
	h.inbox = webhook.NewInbox(webhook.InboxConfig{Provider: telephony.ProviderDialpad, Name: "webhook", Stream: opts.Stream,
		Fn: withCallEvent(fn), Meter: m, Store: opts.State, MaxInFlight: limit, Timeout: timeout, DedupeTTL: opts.DedupeTTL,
		RetriesOn5xx: true, Sync: opts.Sync, Ack: whAck})
	m.InFlight = h.inbox.InFlight
	return h, nil
}

// ServeHTTP receives one delivery.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h.m.Received()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, r, start, http.StatusMethodNotAllowed, telephony.RejectMethod, "method not allowed", nil)
		return
	}
	body, err := webhook.ReadBody(w, r, webhook.MaxEventBody)
	if errors.Is(err, webhook.ErrTooLarge) {
		h.reject(w, r, start, http.StatusRequestEntityTooLarge, telephony.RejectTooLarge, "request body too large", nil)
		return
	}
	if err != nil {
		h.reject(w, r, start, http.StatusBadRequest, telephony.RejectMalformed, "could not read body", err)
		return
	}
	_, ev, key, status, err := whDecodeEvent(h.verifier, body)
	if status != 0 {
		reason, msg := telephony.RejectMalformed, "malformed call event"
		if status == http.StatusUnauthorized {
			reason, msg = telephony.RejectUnauthorized, "invalid signature"
		}
		h.reject(w, r, start, status, reason, msg, err)
		return
	}
	// A 503 (busy, closed, event log down) and a 500 (Sync) are retried by
	// Dialpad, about 2, 4 and 8 s later.
	h.inbox.Dispatch(w, r, start, ev, state.KeyOf("dialpad-webhook", key))
}

func (h *WebhookHandler) reject(w http.ResponseWriter, r *http.Request, start time.Time, status int, reason, msg string, err error) {
	h.log.WarnContext(r.Context(), "dialpad: call event rejected", "status", status, "reason", msg, "error", rtErrString(err))
	webhook.Error(w, status, msg)
	if err == nil {
		err = errors.New(msg)
	}
	h.m.Answer(r.Context(), start, webhook.ResultRejected, reason, "", status, "", err)
}

func whAck(w http.ResponseWriter, result string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"status":"` + result + `"}`))
}

// Close stops accepting events (later deliveries get 503, so Dialpad
// redelivers them) and waits for the events being processed, or for ctx to
// end, in which case their context is cancelled and Close still waits for
// them to return.
func (h *WebhookHandler) Close(ctx context.Context) error { return h.inbox.Close(ctx) }

// Stats returns the handler's counters.
func (h *WebhookHandler) Stats() telephony.HandlerStats { return h.m.Stats() }

// ParseWebhook verifies a Dialpad call event delivery (an HS256 JWT signed
// with the webhook's secret; the algorithm pinned, exp and iat checked when
// present) and decodes it, for programs that keep deliveries in their own
// store before answering. It returns the portable event (Raw is the JWT's
// payload, DeliveryID the key a redelivery shares) and Dialpad's own
// event. A body that does not verify returns an error matching
// telephony.ErrInvalidSignature; a verified one that is not a call event,
// one matching telephony.ErrInvalidRequest.
func ParseWebhook(body []byte, secret string) (telephony.CallEvent, *CallEvent, error) {
	const op = "ParseWebhook"
	v, err := rtNewVerifier(secret, 1)
	if err != nil {
		return telephony.CallEvent{}, nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "secret: %v", err)
	}
	e, ev, _, status, err := whDecodeEvent(v, body)
	switch status {
	case 0:
		return ev, e, nil
	case http.StatusUnauthorized:
		return telephony.CallEvent{}, nil, &telephony.Error{Kind: telephony.ErrInvalidSignature, Provider: telephony.ProviderDialpad,
			Op: op, Message: "the body is not a JWT signed with the webhook's secret", Err: err}
	}
	return telephony.CallEvent{}, e, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: telephony.ProviderDialpad,
		Op: op, Message: "not a call event", Err: err}
}

// whDecode verifies and decodes one delivery. It returns the event, its
// dedupe key, and 401 or 400 with an error when it must be refused.
func whDecode(v *rtVerifier, body []byte) (telephony.CallEvent, string, int, error) {
	_, ev, key, status, err := whDecodeEvent(v, body)
	return ev, key, status, err
}

// whDecodeEvent is whDecode that also returns Dialpad's own event.
func whDecodeEvent(v *rtVerifier, body []byte) (*CallEvent, telephony.CallEvent, string, int, error) {
	payload, err := rtPayload(v, body)
	if err != nil {
		if v != nil {
			return nil, telephony.CallEvent{}, "", http.StatusUnauthorized, err
		}
		return nil, telephony.CallEvent{}, "", http.StatusBadRequest, err
	}
	var e CallEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, telephony.CallEvent{}, "", http.StatusBadRequest, fmt.Errorf("%w: %w", errRtMalformed, err)
	}
	ev := e.portable()
	ev.Raw = payload
	if e.CallID <= 0 || ev.Type == "" {
		return nil, telephony.CallEvent{}, "", http.StatusBadRequest, fmt.Errorf("%w: call_id and state are required", errRtMalformed)
	}
	// A redelivery carries the same call, state and event time. Without an
	// event time, the exact payload stands in for it.
	stamp := strconv.FormatInt(e.EventTimestamp.UnixMilli(), 10)
	if e.EventTimestamp.IsZero() {
		sum := sha256.Sum256(payload)
		stamp = "sha256:" + hex.EncodeToString(sum[:12])
	}
	ev.DeliveryID = ev.CallID + "|" + ev.Type + "|" + stamp
	return &e, ev, ev.DeliveryID, 0, nil
}

// whStatus maps a Dialpad call state to a portable status. States that
// report on a call without changing it (recording, transcription, csat,
// recap_*, ...) map to StatusUnknown; CallEvent.Type keeps the state name.
func whStatus(state string) telephony.CallStatus {
	switch state {
	case "calling", "ringing", "preanswer":
		return telephony.StatusRinging
	case "connected", "merged", "barge", "takeover", "monitor", "eavesdrop":
		return telephony.StatusInProgress
	case "hangup":
		return telephony.StatusCompleted
	case "missed":
		return telephony.StatusMissed
	case "voicemail", "voicemail_uploaded":
		return telephony.StatusVoicemail
	case "hold", "parked":
		return telephony.StatusOnHold
	case "queued":
		return telephony.StatusQueued
	case "blocked":
		return telephony.StatusFailed
	}
	return telephony.StatusUnknown
}

// withCallEvent gives fn's context the Dialpad event behind ev (see
// CallEventFromContext), decoded from ev.Raw: the same in process and from
// the durable log.
func withCallEvent(fn telephony.EventFunc) telephony.EventFunc {
	return func(ctx context.Context, ev telephony.CallEvent) error {
		var e CallEvent
		if len(ev.Raw) > 0 && json.Unmarshal(ev.Raw, &e) == nil {
			ctx = context.WithValue(ctx, callEventKey{}, &e)
		}
		return fn(ctx, ev)
	}
}
