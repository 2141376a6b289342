package justcall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// CallbackTokenParam is the query parameter that carries the callback token
// on callback_url (see Client.SetCallbackToken).
const CallbackTokenParam = "sb_token"

const minCallbackToken = 16

// CallbackOptions configures NewCallbackHandler.
type CallbackOptions struct {
	// Secret is the callback token Client.SetCallbackToken adds to each
	// callback_url. Callbacks without it are answered 401 and never reach
	// fn.
	Secret string
	// AllowUnauthenticated accepts callbacks without a token check. It is
	// required when Secret is empty, so that running without one is a
	// choice, not an accident.
	AllowUnauthenticated bool
	// MaxInFlight bounds how many events fn may be handling at once; a
	// callback beyond it is answered 503 (JustCall does not document
	// whether it redelivers). Zero means 64.
	MaxInFlight int
	// Timeout bounds one fn call (its context ends). Zero means 30s.
	Timeout time.Duration
	// DedupeTTL is how long a (call_id, status) pair is remembered to drop
	// redeliveries. Zero means 24h.
	DedupeTTL time.Duration
	// Logger receives fn's errors and refused requests; nil is silent.
	Logger *slog.Logger
	// OnError receives every failure after a callback was verified: fn's
	// errors and panics, callbacks answered 503 because the handler was
	// busy or closed.
	OnError func(ctx context.Context, err *telephony.HandlerError)
	// Observer is told of each answered request; nil costs nothing.
	Observer telephony.Observer
	// Sync runs fn before answering: 200 once it returned nil, 500 when it
	// failed (the callback is then forgotten, so a redelivery is
	// processed). JustCall does not document whether or when it
	// redelivers after a 5xx. The durable log is not used in Sync mode.
	Sync bool
	// State holds dedupe keys and, when it has an event log (Redis), makes
	// callbacks durable: appended to the stream Stream (default
	// "justcall:callback") before the 200, processed by any replica. Nil
	// means state.Default(). When the log cannot be reached a callback is
	// processed in this process, logged (JustCall's redelivery is not
	// documented).
	State *state.Store
	// Stream overrides the durable stream's name.
	Stream string
}

// CallbackHandler receives the callbacks of Calls.Make (see
// NewCallbackHandler). It is an http.Handler; Close it on shutdown to wait
// for events being handled.
type CallbackHandler struct {
	inbox *webhook.Inbox
	m     *webhook.Meter
	token string
}

// NewCallbackHandler returns the handler for the callback_url of
// Calls.Make: JustCall POSTs the call's call_id, status (ringing,
// in-progress, completed, no-answer, busy, failed), duration in seconds and
// timestamp at each stage, and fn receives them as telephony.CallEvent (Type
// "callback", Direction outbound, Raw the body). The handler answers at
// once and calls fn in the background with the request's context values
// (with opts.Sync, before answering); a redelivered (call_id, status) pair
// is acknowledged and dropped, an unknown status is answered 400, a body
// over 256 KiB 413. Errors match telephony.ErrInvalidRequest.
//
// JustCall does not sign these callbacks. Opts.Secret (with
// Client.SetCallbackToken) is this package's substitute: Calls.Make puts the
// token in the callback_url it sends, and the handler compares it in
// constant time. It protects against forged callbacks from anyone who does
// not know the URL with its token — for example someone who guessed or
// scanned your endpoint. It does not protect against anyone who sees the
// URL (JustCall's staff and logs, your proxies' access logs, a leaked
// request), it does not protect the body's integrity, and it does not stop
// replays of a callback seen once (only exact redeliveries are dropped, for
// the dedupe TTL). Use HTTPS, keep the token out of logs, rotate it with
// SetCallbackToken, and re-read the call from JustCall before acting on
// anything costly. The token is not the API secret: never put the API key
// or secret in a URL.
func NewCallbackHandler(fn telephony.EventFunc, opts CallbackOptions) (*CallbackHandler, error) {
	const op = "NewCallbackHandler"
	if fn == nil {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, op, "fn is nil")
	}
	if opts.Secret == "" && !opts.AllowUnauthenticated {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, op,
			"set CallbackOptions.Secret (see NewCallbackToken), or AllowUnauthenticated to accept unauthenticated callbacks")
	}
	if opts.Secret != "" && len(opts.Secret) < minCallbackToken {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, op, "the token must be at least %d characters", minCallbackToken)
	}
	m := webhook.NewMeter(telephony.ProviderJustCall, "callback", opts.Logger, opts.Observer, opts.OnError)
	h := &CallbackHandler{m: m, token: opts.Secret,
		inbox: webhook.NewInbox(webhook.InboxConfig{Provider: telephony.ProviderJustCall, Name: "callback", Stream: opts.Stream,
			Fn: fn, Meter: m, Store: opts.State, MaxInFlight: opts.MaxInFlight, Timeout: opts.Timeout, DedupeTTL: opts.DedupeTTL,
			Sync: opts.Sync})}
	m.InFlight = h.inbox.InFlight
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *CallbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	h.m.Received()
	reject := func(status int, reason string, err error) {
		h.m.Log().WarnContext(ctx, "justcall callback: request refused", "status", status, "reason", err.Error())
		webhook.Error(w, status, err.Error())
		h.m.Answer(ctx, start, webhook.ResultRejected, reason, "", status, "", err)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, telephony.RejectMethod, errors.New("use POST"))
		return
	}
	if h.token != "" && !webhook.EqualSecret(r.URL.Query().Get(CallbackTokenParam), h.token) {
		reject(http.StatusUnauthorized, telephony.RejectUnauthorized, errors.New("missing or wrong callback token"))
		return
	}
	body, err := webhook.ReadBody(w, r, webhook.MaxEventBody)
	if errors.Is(err, webhook.ErrTooLarge) {
		reject(http.StatusRequestEntityTooLarge, telephony.RejectTooLarge, errors.New("body too large"))
		return
	}
	if err != nil {
		reject(http.StatusBadRequest, telephony.RejectMalformed, errors.New("could not read the body"))
		return
	}
	ev, _, err := decodeCallback(body, r.Header.Get("Content-Type"), time.Now())
	if err != nil {
		reject(http.StatusBadRequest, telephony.RejectMalformed, err)
		return
	}
	h.inbox.Dispatch(w, r, start, ev, state.KeyOf("justcall-callback", ev.CallID, string(ev.Status)))
}

// Stats returns the handler's counters.
func (h *CallbackHandler) Stats() telephony.HandlerStats { return h.m.Stats() }

// Close stops accepting callbacks (they are answered 503) and waits for
// the events being handled, or for ctx to end, in which case their context
// is cancelled.
func (h *CallbackHandler) Close(ctx context.Context) error { return h.inbox.Close(ctx) }

// callbackBody is the click-to-call guide's callback payload. Its encoding is not
// documented beyond the field names, so numbers may also arrive as strings.
type callbackBody struct {
	CallID    jsonx.String `json:"call_id"`
	Status    string       `json:"status"`
	Duration  jsonx.String `json:"duration"`
	Timestamp jsonx.String `json:"timestamp"`
	// Sent by some integrations; used when present.
	From      string      `json:"from"`
	To        string      `json:"to"`
	AgentID   jsonx.Int64 `json:"agent_id"`
	Direction string      `json:"direction"`
}

// decodeCallback turns a callback body (JSON, or a form as some telephony
// callbacks use) into a CallEvent. now is used when no timestamp is given.
func decodeCallback(body []byte, contentType string, now time.Time) (telephony.CallEvent, *Callback, error) {
	ev, b, err := decodeCallbackBody(body, contentType, now)
	if b == nil {
		return ev, nil, err
	}
	cb := &Callback{CallID: string(b.CallID), Status: b.Status, Duration: string(b.Duration), Timestamp: string(b.Timestamp),
		From: b.From, To: b.To, AgentID: int64(b.AgentID), Direction: b.Direction}
	if err == nil {
		ev.Raw = append(json.RawMessage(nil), body...)
	}
	return ev, cb, err
}

// decodeCallbackBody is decodeCallback's decoding; the body it read is
// returned with any error past the decoding itself.
func decodeCallbackBody(body []byte, contentType string, now time.Time) (telephony.CallEvent, *callbackBody, error) {
	var b callbackBody
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		f, err := url.ParseQuery(string(body))
		if err != nil {
			return telephony.CallEvent{}, nil, errors.New("malformed form body")
		}
		b = callbackBody{CallID: jsonx.String(f.Get("call_id")), Status: f.Get("status"),
			Duration: jsonx.String(f.Get("duration")), Timestamp: jsonx.String(f.Get("timestamp")),
			From: f.Get("from"), To: f.Get("to"), Direction: f.Get("direction")}
		if a := f.Get("agent_id"); a != "" {
			n, err := strconv.ParseInt(a, 10, 64)
			if err != nil {
				return telephony.CallEvent{}, nil, errors.New("agent_id is not an integer")
			}
			b.AgentID = jsonx.Int64(n)
		}
	} else if err := json.Unmarshal(body, &b); err != nil {
		return telephony.CallEvent{}, nil, errors.New("body is not the expected JSON callback")
	}
	if b.CallID == "" {
		return telephony.CallEvent{}, &b, errors.New("call_id is missing")
	}
	status, ok := callbackStatuses[strings.ToLower(strings.TrimSpace(b.Status))]
	if !ok {
		return telephony.CallEvent{}, &b, fmt.Errorf("unknown status %.40q", b.Status)
	}
	dur, err := parseSeconds(string(b.Duration))
	if err != nil {
		return telephony.CallEvent{}, &b, err
	}
	at := now.UTC()
	if b.Timestamp != "" {
		if at, err = parseTime(string(b.Timestamp)); err != nil {
			return telephony.CallEvent{}, &b, err
		}
	}
	ev := telephony.CallEvent{
		Provider: telephony.ProviderJustCall, CallID: string(b.CallID), Type: "callback",
		Status: status, Direction: telephony.DirectionOutbound,
		From: telephony.NormalizeNumber(b.From), To: telephony.NormalizeNumber(b.To),
		Duration: dur, Time: at,
	}
	if d := direction(b.Direction); d != telephony.DirectionUnknown {
		ev.Direction = d
	}
	if b.AgentID != 0 {
		ev.AgentID = strconv.FormatInt(int64(b.AgentID), 10)
	}
	return ev, &b, nil
}

var callbackStatuses = map[string]telephony.CallStatus{
	"ringing":     telephony.StatusRinging,
	"in-progress": telephony.StatusInProgress,
	"completed":   telephony.StatusCompleted,
	"no-answer":   telephony.StatusNoAnswer,
	"busy":        telephony.StatusBusy,
	"failed":      telephony.StatusFailed,
}

// parseSeconds reads a duration in seconds (integer or decimal); empty is 0.
func parseSeconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e7 {
		return 0, fmt.Errorf("duration %.20q is not a number of seconds", s)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// parseTime reads JustCall's timestamps: "2006-01-02 15:04:05" (UTC, as in
// its webhooks), RFC 3339, or Unix seconds.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1e11 {
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.DateTime, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %.40q is not a known time format", s)
}

func direction(s string) telephony.Direction {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "outbound", "outgoing":
		return telephony.DirectionOutbound
	case "inbound", "incoming":
		return telephony.DirectionInbound
	}
	return telephony.DirectionUnknown
}
