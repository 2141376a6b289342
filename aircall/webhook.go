package aircall

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// WebhookOptions configures NewWebhookHandler.
type WebhookOptions struct {
	// Secret is the webhook's token (returned by Aircall when the webhook
	// was created). Required: a body without it is refused with 401.
	Secret string
	// OnError receives every failure after a delivery was verified: the
	// EventFunc's errors and panics, events dropped (queue full, after
	// Close, undecodable).
	OnError func(ctx context.Context, err *telephony.HandlerError)
	// Observer is told of each answered request; nil costs nothing.
	Observer telephony.Observer
	// Logger receives the same failures at error level, and refused
	// requests at warn level. Nil is silent.
	Logger *slog.Logger
	// MaxInFlight bounds the events being handled at once. Zero means 100.
	MaxInFlight int
	// MaxQueued is how many more events may wait for a slot. Beyond it a
	// delivery is still answered 200 — Aircall does not retry and
	// deactivates webhooks that fail — and the event is dropped: counted
	// in Stats().Dropped, logged and reported to OnError. Zero means
	// 4 × MaxInFlight.
	MaxQueued int
	// Timeout bounds one EventFunc call. Zero means 30s.
	Timeout time.Duration
	// DedupeTTL is how long a delivery is remembered to drop redeliveries.
	// Zero means 24h.
	DedupeTTL time.Duration
	// Sync runs the EventFunc before answering: 200 once it returned nil,
	// 500 when it failed (the delivery is then forgotten, so a
	// redelivery is processed). Aircall documents no retry and
	// deactivates webhooks that keep failing: use Sync only when a
	// failure must be visible on Aircall's side. The durable log is not
	// used in Sync mode.
	Sync bool
	// State holds dedupe keys and, when it has an event log (Redis), makes
	// events durable: appended to the stream Stream (default
	// "aircall:webhook") before Aircall gets its 200, processed by any
	// replica, retried, dead-lettered after bounded tries. Nil means
	// state.Default(). Aircall does not retry deliveries, so when the log
	// cannot be reached an event is processed in this process (not
	// durably), logged and counted in Stats().Degraded.
	State *state.Store
	// Stream overrides the durable stream's name.
	Stream string
}

// WebhookHandler turns Aircall call events into telephony.CallEvent values
// (with CallEvent.Raw set to Aircall's envelope, without its token). It is
// an http.Handler; Close it on shutdown.
type WebhookHandler struct {
	token string
	m     *webhook.Meter
	log   *slog.Logger
	inbox *webhook.Inbox
}

// NewWebhookHandler returns the handler for an Aircall webhook: it checks
// the body's token against opts.Secret in constant time (401 when wrong
// or missing), caps the body, answers 200 for every genuine delivery and
// passes each call event (call.created, call.ringing_on_agent,
// call.answered, call.transferred, call.hungup, call.ended,
// call.voicemail_left, ...) to fn in the background with the request's
// context values, as a telephony.CallEvent. A redelivery (same event,
// call, timestamp and data) is dropped; events about other resources are
// acknowledged and ignored. Errors match telephony.ErrInvalidRequest.
//
// Aircall asks for a 200 and deactivates webhooks that keep failing, so a
// genuine delivery is never refused: one that cannot be decoded, or that
// finds the queue full (MaxInFlight + MaxQueued) or the handler closed, is
// answered 200 and counted in Stats().Dropped, logged and reported to
// OnError.
func NewWebhookHandler(fn telephony.EventFunc, opts WebhookOptions) (*WebhookHandler, error) {
	const op = "NewWebhookHandler"
	if fn == nil {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op, "fn is nil")
	}
	if opts.Secret == "" {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op, "WebhookOptions.Secret (the webhook's token) is required")
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
	m := webhook.NewMeter(telephony.ProviderAircall, "webhook", opts.Logger, opts.Observer, opts.OnError)
	h := &WebhookHandler{token: opts.Secret, m: m, log: m.Log()}
	h.inbox = webhook.NewInbox(webhook.InboxConfig{Provider: telephony.ProviderAircall, Name: "webhook", Stream: opts.Stream,
		Fn: fn, Meter: m, Store: opts.State, MaxInFlight: opts.MaxInFlight, Queue: opts.MaxQueued, Timeout: opts.Timeout,
		DedupeTTL: opts.DedupeTTL, NeverRefuse: true, Sync: opts.Sync})
	m.InFlight = h.inbox.InFlight
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	h.m.Received()
	ev, status, reason, err := readEvent(w, r, h.token)
	if ev == nil {
		h.log.WarnContext(ctx, "aircall webhook: request refused", "status", status, "reason", err.Error())
		webhook.Error(w, status, err.Error())
		h.m.Answer(ctx, start, webhook.ResultRejected, reason, "", status, "", err)
		return
	}
	if ev.Event != "" && !ev.IsCall() {
		w.WriteHeader(http.StatusOK)
		h.m.Answer(ctx, start, webhook.ResultIgnored, "", "", http.StatusOK, "", nil)
		return
	}
	call, err := ev.Call()
	if ev.Event == "" {
		err = errors.New("the envelope has no event name")
	}
	if err != nil {
		w.WriteHeader(http.StatusOK)
		result, _, err := dropUndecodable(ctx, h.m, ev, err)
		h.m.Answer(ctx, start, result, "", "", http.StatusOK, "", err)
		return
	}
	ce := ev.CallEvent(call)
	ce.Raw = rawEvent(ev)
	h.inbox.Dispatch(w, r, start, ce, dedupeKey(ev, ce.CallID))
}

// ParseWebhook verifies an Aircall webhook delivery (its body's token
// against the webhook's token, in constant time) and decodes it, for
// programs that keep deliveries in their own store before answering. It
// returns the portable event (with Raw set) and Aircall's envelope. A wrong
// or missing token returns an error matching telephony.ErrInvalidSignature;
// a body that does not decode, one matching telephony.ErrInvalidRequest.
// A verified event about another resource (user, number...) returns a zero
// CallEvent, its envelope and no error.
func ParseWebhook(body []byte, token string) (telephony.CallEvent, *Event, error) {
	ev, err := ParseEvent(body, token)
	if err != nil {
		return telephony.CallEvent{}, nil, err
	}
	if !ev.IsCall() {
		return telephony.CallEvent{}, ev, nil
	}
	call, err := ev.Call()
	if err != nil {
		return telephony.CallEvent{}, ev, err
	}
	ce := ev.CallEvent(call)
	ce.Raw = rawEvent(ev)
	return ce, ev, nil
}

// dedupeKey identifies one delivery. Event, call id and timestamp alone are
// not enough: the timestamp has a one-second resolution, and Aircall sends
// distinct events that share all three (call.ringing_on_agent for two
// agents in the same second, call.tagged or call.commented twice). Those
// differ in data (the user, the tags, the comments), whereas a redelivery
// resends the same data, so the key adds a SHA-256 of the compacted data.
// Hashing all of data rather than picking fields (user id, tags...) keeps
// every distinguishing field, including ones Aircall adds later; compacting
// makes it independent of whitespace.
func dedupeKey(ev *Event, callID string) state.Key {
	var buf bytes.Buffer
	if json.Compact(&buf, ev.Data) != nil {
		buf.Reset()
		buf.Write(ev.Data)
	}
	sum := sha256.Sum256(buf.Bytes())
	return state.KeyOf("aircall-webhook", ev.Event, callID, strconv.FormatInt(ev.Timestamp, 10), string(sum[:]))
}

// Stats returns the handler's counters.
func (h *WebhookHandler) Stats() telephony.HandlerStats { return h.m.Stats() }

// Close stops accepting events (later deliveries are answered 200 and
// dropped) and waits for the ones being handled, or for ctx to end (their
// contexts are then cancelled).
func (h *WebhookHandler) Close(ctx context.Context) error { return h.inbox.Close(ctx) }
