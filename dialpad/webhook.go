package dialpad

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// Defaults of WebhookOptions.
const (
	DefaultWebhookMaxInFlight = 64
	DefaultWebhookTimeout     = 30 * time.Second
)

// WebhookOptions configures NewWebhookHandler.
type WebhookOptions struct {
	// AllowUnsigned accepts plain JSON events when the secret is empty, as
	// Dialpad sends them for a webhook created without a secret. Anyone who
	// can reach the URL can then forge events; a warning is logged.
	AllowUnsigned bool
	// Logger receives rejections, EventFunc errors and panics. Nil is silent.
	Logger *slog.Logger
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
	// DedupeMax bounds how many deliveries are remembered; zero means
	// 100,000.
	DedupeMax int
}

// WebhookHandler receives Dialpad call events (a webhook subscribed to call
// states) and hands each one, once, to an EventFunc. It verifies the JWT
// before parsing, acknowledges at once and runs the EventFunc in the
// background: an EventFunc error is logged, never turned into a 4xx, which
// Dialpad would not retry. It is safe for concurrent use; Close drains it.
type WebhookHandler struct {
	fn       telephony.EventFunc
	verifier *rtVerifier
	log      *slog.Logger
	runner   *webhook.Runner
	dedupe   *webhook.Dedupe

	received, accepted, duplicates, busy, rejected, failed atomic.Int64
}

// NewWebhookHandler returns the handler for the hook_url of a Dialpad
// webhook carrying call events. secret is the webhook's secret: every
// delivery must then be an HS256 JWT signed with it (401 otherwise, and the
// algorithm is pinned; exp and iat are checked when present, see
// RoutingHandler). An empty secret is refused unless opts.AllowUnsigned is
// set.
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
// The returned handler is a *WebhookHandler.
func NewWebhookHandler(secret string, fn telephony.EventFunc, opts WebhookOptions) (http.Handler, error) {
	const op = "NewWebhookHandler"
	if fn == nil {
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "fn is nil")
	}
	h := &WebhookHandler{fn: fn, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case secret != "":
		v, err := rtNewVerifier(secret, 1)
		if err != nil {
			return nil, telephony.InvalidArgument(telephony.ProviderDialpad, op, "secret: %v", err)
		}
		if len(secret) < MinSecretLength {
			h.log.Warn("dialpad: webhook secret is shorter than 32 characters; a short HMAC key can be guessed")
		}
		h.verifier = v
	case opts.AllowUnsigned:
		h.log.Warn("dialpad: webhook handler accepts unsigned events; anyone who can reach it can forge them: give the webhook a secret")
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
	h.runner = webhook.NewRunner(limit, timeout)
	h.dedupe = webhook.NewDedupe(opts.DedupeTTL, opts.DedupeMax)
	return h, nil
}

// ServeHTTP receives one delivery.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.received.Add(1)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, http.StatusMethodNotAllowed, "method not allowed", nil)
		return
	}
	body, err := webhook.ReadBody(w, r, webhook.MaxEventBody)
	if errors.Is(err, webhook.ErrTooLarge) {
		h.reject(w, http.StatusRequestEntityTooLarge, "request body too large", nil)
		return
	}
	if err != nil {
		h.reject(w, http.StatusBadRequest, "could not read body", err)
		return
	}
	ev, key, status, err := whDecode(h.verifier, body)
	if status != 0 {
		msg := "malformed call event"
		if status == http.StatusUnauthorized {
			msg = "invalid signature"
		}
		h.reject(w, status, msg, err)
		return
	}
	if !h.dedupe.First(key) {
		h.duplicates.Add(1)
		whAck(w, "duplicate")
		return
	}
	if !h.runner.TryGo(func(ctx context.Context) { h.process(ctx, ev) }) {
		// Forget the key so that Dialpad's redelivery of this 503 is
		// processed.
		h.dedupe.Forget(key)
		h.busy.Add(1)
		h.log.Warn("dialpad: call event refused, handler busy or closed", "call_id", ev.CallID, "state", ev.Type)
		webhook.Error(w, http.StatusServiceUnavailable, "busy, retry later")
		return
	}
	h.accepted.Add(1)
	whAck(w, "accepted")
}

func (h *WebhookHandler) reject(w http.ResponseWriter, status int, msg string, err error) {
	h.rejected.Add(1)
	h.log.Warn("dialpad: call event rejected", "status", status, "reason", msg, "error", rtErrString(err))
	webhook.Error(w, status, msg)
}

func whAck(w http.ResponseWriter, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"status":"` + status + `"}`))
}

// process runs the EventFunc for one event; errors and panics are logged,
// as the delivery was already acknowledged.
func (h *WebhookHandler) process(ctx context.Context, ev telephony.CallEvent) {
	defer func() {
		if p := recover(); p != nil {
			h.failed.Add(1)
			h.log.Error("dialpad: EventFunc panicked", "call_id", ev.CallID, "state", ev.Type, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	if err := h.fn(ctx, ev); err != nil {
		h.failed.Add(1)
		h.log.Warn("dialpad: EventFunc failed", "call_id", ev.CallID, "state", ev.Type, "error", err.Error())
	}
}

// Close stops accepting events (later deliveries get 503, so Dialpad
// redelivers them) and waits for the events being processed, or for ctx to
// end, in which case their context is cancelled and Close still waits for
// them to return.
func (h *WebhookHandler) Close(ctx context.Context) error { return h.runner.Close(ctx) }

// WebhookStats are a WebhookHandler's counters since it was built.
type WebhookStats struct {
	Received   int64 // every request
	Accepted   int64 // events handed to the EventFunc
	Duplicates int64 // redeliveries acknowledged without processing
	Busy       int64 // answered 503 because MaxInFlight was reached or Close was called
	Rejected   int64 // answered 4xx: bad method, too large, bad signature, malformed
	Failed     int64 // EventFunc calls that returned an error or panicked
	InFlight   int   // EventFunc calls running now
}

// Stats returns the handler's counters.
func (h *WebhookHandler) Stats() WebhookStats {
	return WebhookStats{
		Received: h.received.Load(), Accepted: h.accepted.Load(), Duplicates: h.duplicates.Load(),
		Busy: h.busy.Load(), Rejected: h.rejected.Load(), Failed: h.failed.Load(),
		InFlight: h.runner.InFlight(),
	}
}

// whEvent is the part of a Dialpad call event (CallProto) that maps to a
// telephony.CallEvent. Ids and timestamps arrive as numbers or numeric
// strings.
type whEvent struct {
	CallID         jsonx.Int64  `json:"call_id"`
	State          jsonx.String `json:"state"`
	Direction      jsonx.String `json:"direction"`
	DateStarted    jsonx.Int64  `json:"date_started"`
	DateConnected  jsonx.Int64  `json:"date_connected"`
	DateEnded      jsonx.Int64  `json:"date_ended"`
	EventTimestamp jsonx.Int64  `json:"event_timestamp"`
	ExternalNumber jsonx.String `json:"external_number"`
	InternalNumber jsonx.String `json:"internal_number"`
	Duration       json.Number  `json:"duration"` // milliseconds, a double
	Target         *struct {
		ID   jsonx.String `json:"id"`
		Type jsonx.String `json:"type"`
	} `json:"target"`
}

// whDecode verifies and decodes one delivery. It returns the event, its
// dedupe key, and 401 or 400 with an error when it must be refused.
func whDecode(v *rtVerifier, body []byte) (telephony.CallEvent, string, int, error) {
	payload, err := rtPayload(v, body)
	if err != nil {
		if v != nil {
			return telephony.CallEvent{}, "", http.StatusUnauthorized, err
		}
		return telephony.CallEvent{}, "", http.StatusBadRequest, err
	}
	var e whEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		return telephony.CallEvent{}, "", http.StatusBadRequest, fmt.Errorf("%w: %w", errRtMalformed, err)
	}
	state := strings.ToLower(strings.TrimSpace(string(e.State)))
	if e.CallID <= 0 || state == "" {
		return telephony.CallEvent{}, "", http.StatusBadRequest, fmt.Errorf("%w: call_id and state are required", errRtMalformed)
	}
	ev := telephony.CallEvent{
		Provider: telephony.ProviderDialpad,
		CallID:   strconv.FormatInt(int64(e.CallID), 10),
		Type:     state,
		Status:   whStatus(state),
	}
	switch strings.ToLower(string(e.Direction)) {
	case "inbound":
		ev.Direction, ev.From, ev.To = telephony.DirectionInbound, string(e.ExternalNumber), string(e.InternalNumber)
	case "outbound":
		ev.Direction, ev.From, ev.To = telephony.DirectionOutbound, string(e.InternalNumber), string(e.ExternalNumber)
	default:
		ev.From, ev.To = string(e.ExternalNumber), string(e.InternalNumber)
	}
	ev.From, ev.To = telephony.NormalizeNumber(ev.From), telephony.NormalizeNumber(ev.To)
	if e.Target != nil && strings.EqualFold(string(e.Target.Type), "user") {
		ev.AgentID = string(e.Target.ID)
	}
	// The bound keeps ms*1e6 ns within int64: a larger (bogus) duration
	// would wrap to a negative one, so it is reported as unknown (0).
	if ms, err := e.Duration.Float64(); err == nil && ms > 0 && ms < float64(math.MaxInt64/int64(time.Millisecond)) {
		ev.Duration = time.Duration(ms * float64(time.Millisecond))
	}
	for _, ms := range []jsonx.Int64{e.EventTimestamp, e.DateEnded, e.DateConnected, e.DateStarted} {
		if ms > 0 {
			ev.Time = time.UnixMilli(int64(ms)).UTC()
			break
		}
	}
	// A redelivery carries the same call, state and event time. Without an
	// event time, the exact payload stands in for it.
	stamp := strconv.FormatInt(int64(e.EventTimestamp), 10)
	if e.EventTimestamp <= 0 {
		sum := sha256.Sum256(payload)
		stamp = "sha256:" + hex.EncodeToString(sum[:12])
	}
	ev.DeliveryID = ev.CallID + "|" + state + "|" + stamp
	return ev, ev.DeliveryID, 0, nil
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
