package justcall

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// Headers of a JustCall v2.1 webhook delivery.
const (
	HeaderSignature        = "X-Justcall-Signature"
	HeaderSignatureVersion = "X-Justcall-Signature-Version"
	HeaderRequestTimestamp = "X-Justcall-Request-Timestamp"
)

// TimestampLayout is the layout of HeaderRequestTimestamp ("2024-03-21
// 17:08:22"). JustCall does not state its time zone; this package assumes
// UTC.
const TimestampLayout = time.DateTime

// DefaultTolerance is how far the request timestamp may be from now.
const DefaultTolerance = 300 * time.Second

// WebhookOptions configures NewWebhookHandler.
type WebhookOptions struct {
	// Tolerance is how far HeaderRequestTimestamp may be from now, either
	// way. Zero means DefaultTolerance.
	Tolerance time.Duration
	// PreviousSecrets are also accepted while an API secret is rotated.
	PreviousSecrets []string
	// WebhookURL, when set, must equal the body's webhook_url: a signed
	// delivery meant for another of your endpoints is then refused.
	WebhookURL string
	// MaxInFlight bounds how many events fn may be handling at once; a
	// delivery beyond it is answered 503 so JustCall redelivers. Zero
	// means 64.
	MaxInFlight int
	// Timeout bounds one fn call. Zero means 30s.
	Timeout time.Duration
	// DedupeTTL is how long a delivery (its request_id and signature) is
	// remembered. Zero means 24h.
	DedupeTTL time.Duration
	// Logger receives fn's errors; nil is silent.
	Logger *slog.Logger
	// State holds dedupe keys and, when it has an event log (Redis), makes
	// events durable: appended to the stream Stream (default
	// "justcall:webhook") before the 200, processed by any replica. Nil
	// means state.Default(). When the log cannot be reached an event is
	// processed in this process, logged (JustCall's redelivery is not
	// documented).
	State *state.Store
	// Stream overrides the durable stream's name.
	Stream string
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// WebhookHandler is the http.Handler NewWebhookHandler returns. Close it on
// shutdown to wait for events being handled.
type WebhookHandler struct {
	*webhook.Inbox
	secrets []string
	opts    WebhookOptions
}

// errNotCallEvent marks a verified delivery that is not a call event
// (sms.*, whatsapp.*, contacts...): it is acknowledged and ignored.
var errNotCallEvent = errors.New("justcall: not a call event")

// NewWebhookHandler returns the handler for JustCall's v2.1 webhooks. Each
// delivery is verified before anything else is parsed: HeaderSignature
// must be hex(HMAC-SHA256(apiSecret, apiSecret|encodeURIComponent(
// webhook_url)|type|timestamp)) (developer.justcall.io "Dynamic Webhook
// Signatures", version v1) and the timestamp within opts.Tolerance of now.
// Failures are answered 401 and never reach fn.
//
// The signature does NOT cover the body's data: whoever holds one valid
// delivery can change its data for the same type, URL and timestamp, within
// the tolerance. Treat data as a hint: CallEvent.DeliveryID carries the
// request_id, and CallEvent.CallID lets you re-read the call with
// Client.Calls.Get before acting. Redeliveries of a request_id are
// acknowledged and dropped, and so is a replay of one signed delivery
// under new request_ids: a delivery with the signature, type, call id,
// status, call_info.type and agent of one already handled. Two real events
// of one type for one call in one second share their signature and differ
// only in data, which is unsigned; they are told apart by those data
// fields, so they are both handled unless they agree on all of them.
//
// Call events (call.initiated, call.incoming, call.answered,
// call.completed, call.missed, call.voicemail, call.enters_queue,
// call.exits_queue, call.updated, ...) reach fn as telephony.CallEvent with
// Type set to JustCall's type; other verified events are acknowledged and
// ignored. The handler answers at once and calls fn in the background; when
// opts.MaxInFlight events are in hand it answers 503.
func NewWebhookHandler(apiSecret string, fn telephony.EventFunc, opts WebhookOptions) (http.Handler, error) {
	if apiSecret == "" {
		return nil, errors.New("justcall.NewWebhookHandler: the API secret is required to verify signatures")
	}
	if fn == nil {
		return nil, errors.New("justcall.NewWebhookHandler: fn is nil")
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = DefaultTolerance
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	secrets := []string{apiSecret}
	for _, s := range opts.PreviousSecrets {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	return &WebhookHandler{
		Inbox: webhook.NewInbox(webhook.InboxConfig{Provider: telephony.ProviderJustCall, Name: "webhook", Stream: opts.Stream,
			Fn: fn, Store: opts.State, MaxInFlight: opts.MaxInFlight, Timeout: opts.Timeout, DedupeTTL: opts.DedupeTTL, Logger: opts.Logger}),
		secrets: secrets, opts: opts,
	}, nil
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		webhook.Error(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	body, err := webhook.ReadBody(w, r, webhook.MaxEventBody)
	if errors.Is(err, webhook.ErrTooLarge) {
		webhook.Error(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	if err != nil {
		webhook.Error(w, http.StatusBadRequest, "could not read the body")
		return
	}
	env, err := verify(h.secrets, r.Header, body, h.opts.Tolerance, h.opts.Now())
	if err != nil {
		webhook.Error(w, http.StatusUnauthorized, err.Error())
		return
	}
	if h.opts.WebhookURL != "" && env.WebhookURL != h.opts.WebhookURL {
		webhook.Error(w, http.StatusUnauthorized, "webhook_url is not this endpoint's")
		return
	}
	ev, err := decodeEvent(env, r.Header.Get(HeaderRequestTimestamp))
	if errors.Is(err, errNotCallEvent) {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		webhook.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	key := state.KeyOf("justcall-webhook", env.RequestID)
	if env.RequestID == "" {
		// No request id: fall back to what identifies the state change.
		key = state.KeyOf("justcall-webhook", env.Type, ev.CallID, r.Header.Get(HeaderRequestTimestamp))
	}
	h.Dispatch(w, r, ev, key, replayKey(r.Header.Get(HeaderSignature), env, ev))
}

// replayKey is the second dedupe key of a delivery. request_id is not
// signed, so a captured delivery replayed within the tolerance under new
// request_ids passes the first key; its signature cannot change (it
// covers the type, URL and timestamp), so signature + type + call id
// catches such a replay. But one signature is shared by every event of one
// type sent to one URL in one second, and those real, distinct events
// differ only in data, which is unsigned: the key therefore also holds the
// call's id and the fields that tell two states of one call apart (status,
// call_info.type, agent). An attacker can still change those fields, as
// they can change the call id: data stays a hint (see NewWebhookHandler),
// and what this key stops is the same event, for the same call, acted on
// twice.
func replayKey(signature string, env *envelope, ev telephony.CallEvent) state.Key {
	var d struct {
		Status   jsonx.String `json:"status"`
		CallInfo struct {
			Type jsonx.String `json:"type"`
		} `json:"call_info"`
	}
	_ = json.Unmarshal(env.Data, &d) // decodeEvent already read it; a field that fails stays empty
	return state.KeyOf("justcall-replay", strings.ToLower(strings.TrimSpace(signature)), env.Type, ev.CallID,
		strings.ToLower(string(d.Status)), strings.ToLower(string(d.CallInfo.Type)), ev.AgentID)
}

// Close stops accepting deliveries (they are answered 503) and waits for
// the events being handled, or for ctx to end, in which case their context
// is cancelled.
func (h *WebhookHandler) Close(ctx context.Context) error { return h.Inbox.Close(ctx) }

// Signature returns the v1 signature JustCall puts in HeaderSignature:
// hex(HMAC-SHA256(key=secret, secret+"|"+encodeURIComponent(webhookURL)+
// "|"+eventType+"|"+timestamp)). Tests and simulators use it to sign
// deliveries.
func Signature(secret, webhookURL, eventType, timestamp string) string {
	return hex.EncodeToString(mac(secret, encodeURIComponent(webhookURL), eventType, timestamp))
}

func mac(secret, encodedURL, eventType, timestamp string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(secret + "|" + encodedURL + "|" + eventType + "|" + timestamp))
	return m.Sum(nil)
}

// envelope is the part of a delivery the signature covers (webhook_url,
// type) plus its id; data stays raw until the signature is checked.
type envelope struct {
	RequestID  string          `json:"request_id"`
	WebhookURL string          `json:"webhook_url"`
	URLID      jsonx.String    `json:"url_id"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
}

// verify checks a delivery's signature and timestamp against each secret.
// Only the envelope is decoded; data is left raw.
func verify(secrets []string, h http.Header, body []byte, tolerance time.Duration, now time.Time) (*envelope, error) {
	sigHex := strings.TrimSpace(h.Get(HeaderSignature))
	if sigHex == "" {
		return nil, errors.New("missing " + HeaderSignature)
	}
	if v := strings.TrimSpace(h.Get(HeaderSignatureVersion)); v != "" && !strings.EqualFold(v, "v1") {
		return nil, fmt.Errorf("unsupported signature version %.10q", v)
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil || len(got) != sha256.Size {
		return nil, errors.New("malformed " + HeaderSignature)
	}
	ts := h.Get(HeaderRequestTimestamp)
	at, err := parseTime(ts)
	if err != nil || ts == "" {
		return nil, errors.New("missing or malformed " + HeaderRequestTimestamp)
	}
	if d := now.Sub(at); d > tolerance || d < -tolerance {
		return nil, errors.New("request timestamp outside the allowed window")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, errors.New("body is not a JustCall webhook envelope")
	}
	if env.Type == "" || env.WebhookURL == "" {
		return nil, errors.New("webhook_url or type missing")
	}
	// The documents show two encoders for webhook_url: JavaScript's
	// encodeURIComponent and Python's quote(safe=''); they differ only on
	// !*'(). Accept either.
	encoded := []string{encodeURIComponent(env.WebhookURL)}
	if alt := pythonQuote(env.WebhookURL); alt != encoded[0] {
		encoded = append(encoded, alt)
	}
	ok := false
	for _, s := range secrets {
		for _, u := range encoded {
			if hmac.Equal(got, mac(s, u, env.Type, ts)) {
				ok = true
			}
		}
	}
	if !ok {
		return nil, errors.New("signature does not match")
	}
	return &env, nil
}

// encodeURIComponent is JavaScript's: everything but A-Z a-z 0-9 - _ . ! ~
// * ' ( ) is percent-encoded as UTF-8.
func encodeURIComponent(s string) string { return percentEncode(s, "-_.!~*'()") }

// pythonQuote is Python's urllib.parse.quote with no safe characters.
func pythonQuote(s string) string { return percentEncode(s, "-_.~") }

func percentEncode(s, safe string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte(safe, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// callData is the part of JustCall's call object (developer.justcall.io
// "JustCall Call Object") a CallEvent needs, plus the click-to-call guide's flat fields.
type callData struct {
	ID             jsonx.String `json:"id"`
	CallSID        jsonx.String `json:"call_sid"`
	CallID         jsonx.String `json:"call_id"`
	ContactNumber  jsonx.String `json:"contact_number"`
	JustCallNumber jsonx.String `json:"justcall_number"`
	AgentID        jsonx.Int64  `json:"agent_id"`
	CallDate       string       `json:"call_date"`
	CallTime       string       `json:"call_time"`
	CallInfo       struct {
		Direction string `json:"direction"`
		Type      string `json:"type"`
	} `json:"call_info"`
	CallDuration json.RawMessage `json:"call_duration"`
	Duration     jsonx.String    `json:"duration"`
	Direction    string          `json:"direction"`
	From         jsonx.String    `json:"from"`
	To           jsonx.String    `json:"to"`
	Status       string          `json:"status"`
}

// webhookStatuses maps call event types to the status they report.
var webhookStatuses = map[string]telephony.CallStatus{
	"call.initiated":    telephony.StatusInitiated,
	"call.incoming":     telephony.StatusRinging,
	"call.answered":     telephony.StatusInProgress,
	"call.completed":    telephony.StatusCompleted,
	"call.missed":       telephony.StatusMissed,
	"call.voicemail":    telephony.StatusVoicemail,
	"call.enters_queue": telephony.StatusQueued,
}

// decodeEvent turns a verified envelope into a CallEvent. requestTS is used
// when the call object carries no time.
func decodeEvent(env *envelope, requestTS string) (telephony.CallEvent, error) {
	if !isCallEvent(env.Type) {
		return telephony.CallEvent{}, errNotCallEvent
	}
	var d callData
	if len(env.Data) > 0 && string(env.Data) != "null" {
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return telephony.CallEvent{}, errors.New("data is not a JustCall call object")
		}
	}
	ev := telephony.CallEvent{
		Provider: telephony.ProviderJustCall, Type: env.Type, DeliveryID: env.RequestID,
		CallID: firstNonEmpty(string(d.ID), string(d.CallSID), string(d.CallID)),
	}
	if ev.CallID == "" {
		return telephony.CallEvent{}, errors.New("data has no call id (id, call_sid or call_id)")
	}
	ev.Status = webhookStatuses[env.Type]
	if ev.Status == telephony.StatusUnknown {
		if s, ok := callbackStatuses[strings.ToLower(d.Status)]; ok {
			ev.Status = s
		}
	}
	ev.Direction = direction(firstNonEmpty(d.CallInfo.Direction, d.Direction))
	if ev.Direction == telephony.DirectionUnknown {
		switch env.Type {
		case "call.initiated":
			ev.Direction = telephony.DirectionOutbound
		case "call.incoming", "call.missed", "call.voicemail", "call.enters_queue", "call.exits_queue":
			ev.Direction = telephony.DirectionInbound
		}
	}
	contact, line := string(d.ContactNumber), string(d.JustCallNumber)
	if ev.Direction == telephony.DirectionInbound {
		ev.From, ev.To = contact, line
	} else {
		ev.From, ev.To = line, contact
	}
	ev.From = firstNonEmpty(ev.From, string(d.From))
	ev.To = firstNonEmpty(ev.To, string(d.To))
	if d.AgentID != 0 {
		ev.AgentID = strconv.FormatInt(int64(d.AgentID), 10)
	}
	ev.Duration = callDuration(d.CallDuration)
	if ev.Duration == 0 {
		ev.Duration, _ = parseSeconds(string(d.Duration))
	}
	if t, err := time.Parse(time.DateTime, d.CallDate+" "+d.CallTime); err == nil {
		ev.Time = t.UTC()
	} else if t, err := parseTime(requestTS); err == nil {
		ev.Time = t
	}
	return ev, nil
}

func isCallEvent(t string) bool {
	return strings.HasPrefix(t, "call.") || t == "jc.call_ai_generated"
}

// callDuration reads call_duration: a number of seconds, or an object whose
// total_duration (or conversation_time) is one.
func callDuration(raw json.RawMessage) time.Duration {
	if len(raw) == 0 {
		return 0
	}
	var n jsonx.String
	if json.Unmarshal(raw, &n) == nil {
		d, _ := parseSeconds(string(n))
		return d
	}
	var obj struct {
		Total        jsonx.String `json:"total_duration"`
		Conversation jsonx.String `json:"conversation_time"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return 0
	}
	d, _ := parseSeconds(firstNonEmpty(string(obj.Total), string(obj.Conversation)))
	return d
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
