package aircall

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
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

// WebhookOptions configures the handler NewWebhookHandler returns.
type WebhookOptions struct {
	// OnError receives every error of the EventFunc (and its panics, and
	// events dropped because the queue was full).
	OnError func(ctx context.Context, ev telephony.CallEvent, err error)
	// Logger receives the same failures at error level, and refused
	// requests at warn level. Nil is silent.
	Logger *slog.Logger
	// MaxInFlight bounds the events being handled at once; a delivery
	// beyond it gets 503 so Aircall redelivers. Zero means 100.
	MaxInFlight int
	// Timeout bounds one EventFunc call. Zero means 30s.
	Timeout time.Duration
	// DedupeTTL is how long a delivery is remembered to drop redeliveries.
	// Zero means 24h.
	DedupeTTL time.Duration
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

// WebhookStats counts what a WebhookHandler did.
type WebhookStats struct {
	Received   int64 // requests received
	Delivered  int64 // events the EventFunc handled without error
	Ignored    int64 // events about other resources (users, numbers...)
	Duplicates int64 // redeliveries dropped
	Rejected   int64 // requests refused: bad token (401), bad body, full queue (503)
	Failed     int64 // EventFunc errors and panics
	Durable    int64 // events appended to the durable log (Redis state)
	Degraded   int64 // deliveries the state store failed (see WebhookOptions.State)
}

// WebhookHandler turns Aircall call events into telephony.CallEvent values.
// NewWebhookHandler returns one as an http.Handler; assert it to
// *WebhookHandler to read Stats and to Close it on shutdown.
type WebhookHandler struct {
	token string
	fn    telephony.EventFunc
	opts  WebhookOptions
	log   *slog.Logger
	inbox *webhook.Inbox

	received, delivered, ignored, duplicates, rejected, failed atomic.Int64
}

// NewWebhookHandler returns an http.Handler (a *WebhookHandler) for an
// Aircall webhook: it checks the body's token against the webhook's token
// in constant time (401 when wrong or missing), caps the body, answers 200
// at once and passes each call event (call.created, call.ringing_on_agent,
// call.answered, call.transferred, call.hungup, call.ended,
// call.voicemail_left, ...) to fn in the background, as a
// telephony.CallEvent. A redelivery (same event, call, timestamp and
// data) is dropped; events about other resources are acknowledged and
// ignored.
func NewWebhookHandler(token string, fn telephony.EventFunc, opts WebhookOptions) (http.Handler, error) {
	if token == "" {
		return nil, errors.New("aircall: NewWebhookHandler needs the webhook's token")
	}
	if fn == nil {
		return nil, errors.New("aircall: NewWebhookHandler needs an EventFunc")
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 100
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	h := &WebhookHandler{token: token, fn: fn, opts: opts, log: logger(opts.Logger)}
	h.inbox = webhook.NewInbox(webhook.InboxConfig{Provider: telephony.ProviderAircall, Name: "webhook", Stream: opts.Stream,
		Fn: h.handle, Store: opts.State, MaxInFlight: opts.MaxInFlight, Timeout: opts.Timeout, DedupeTTL: opts.DedupeTTL,
		Logger: opts.Logger})
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.received.Add(1)
	ev, status, msg := readEvent(w, r, h.token)
	if ev == nil {
		h.rejected.Add(1)
		h.log.Warn("aircall webhook: request refused", "status", status, "reason", msg)
		webhook.Error(w, status, msg)
		return
	}
	if !ev.IsCall() {
		h.ignored.Add(1)
		w.WriteHeader(http.StatusOK)
		return
	}
	call, err := ev.Call()
	if err != nil {
		h.rejected.Add(1)
		h.log.Warn("aircall webhook: request refused", "status", http.StatusBadRequest, "reason", err.Error())
		webhook.Error(w, http.StatusBadRequest, "call event without a usable call")
		return
	}
	ce := ev.CallEvent(call)
	switch h.inbox.Take(r.Context(), ce, dedupeKey(ev, ce.CallID)) {
	case webhook.Duplicate:
		h.duplicates.Add(1)
	case webhook.Busy:
		h.rejected.Add(1)
		h.report(r.Context(), ce, &telephony.Error{Kind: telephony.ErrUnavailable, Provider: telephony.ProviderAircall,
			Op: "webhook", Message: "event queue full; answered 503 so that Aircall redelivers"})
		webhook.Error(w, http.StatusServiceUnavailable, "busy, retry later")
		return
	}
	w.WriteHeader(http.StatusOK)
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

// handle runs the EventFunc for one event, in process or from the durable
// log; an error makes the inbox forget the delivery (in process) or retry
// it (durable).
func (h *WebhookHandler) handle(ctx context.Context, ev telephony.CallEvent) error {
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("aircall webhook: EventFunc panic: %v", p)
			}
		}()
		return h.fn(ctx, ev)
	}()
	if err != nil {
		h.failed.Add(1)
		h.report(ctx, ev, err)
		return err
	}
	h.delivered.Add(1)
	return nil
}

func (h *WebhookHandler) report(ctx context.Context, ev telephony.CallEvent, err error) {
	h.log.Error("aircall webhook: event not handled", "event", ev.Type, "call_id", ev.CallID, "error", err.Error())
	if h.opts.OnError != nil {
		safely(h.log, func() { h.opts.OnError(ctx, ev, err) })
	}
}

// Stats returns the handler's counters.
func (h *WebhookHandler) Stats() WebhookStats {
	in := h.inbox.Stats()
	return WebhookStats{Received: h.received.Load(), Delivered: h.delivered.Load(), Ignored: h.ignored.Load(),
		Duplicates: h.duplicates.Load(), Rejected: h.rejected.Load(), Failed: h.failed.Load(),
		Durable: in.Durable, Degraded: in.Degraded}
}

// Close stops accepting events (later deliveries get 503) and waits for the
// ones being handled, or for ctx to end (their contexts are then cancelled
// and Close still waits for them to return).
func (h *WebhookHandler) Close(ctx context.Context) error { return h.inbox.Close(ctx) }
