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
// 17:08:22"). It carries no zone and JustCall does not state one: see
// NewWebhookHandler for how it is read.
const TimestampLayout = time.DateTime

// DefaultTolerance is how far the request timestamp may be from now, once
// the sender's zone offset is taken out (see NewWebhookHandler).
const DefaultTolerance = 300 * time.Second

// The whole-hour zone offsets a zone-less request timestamp may be written
// in when WebhookOptions.TimestampZone is nil: UTC-12 to UTC+14, every
// offset in use that is a whole number of hours.
const (
	MinZoneOffset = -12 * time.Hour
	MaxZoneOffset = 14 * time.Hour
)

// WebhookOptions configures NewWebhookHandler.
type WebhookOptions struct {
	// Secret is the account's API secret, which signs every delivery.
	// Required.
	Secret string
	// Tolerance is how far HeaderRequestTimestamp may be from now, either
	// way, after the sender's zone offset is taken out. Zero means
	// DefaultTolerance.
	Tolerance time.Duration
	// TimestampZone, when set, is the zone HeaderRequestTimestamp is
	// written in (time.UTC, or the zone of your JustCall account once you
	// have seen a delivery): the timestamp must then be within Tolerance
	// of now, with no offset allowed. Nil (the default) accepts any
	// whole-hour offset from MinZoneOffset to MaxZoneOffset; set it for
	// an account in a zone with a half-hour offset (India, UTC+5:30).
	TimestampZone *time.Location
	// PreviousSecrets are also accepted while an API secret is rotated.
	PreviousSecrets []string
	// WebhookURL, when set, must equal the body's webhook_url: a signed
	// delivery meant for another of your endpoints is then refused.
	WebhookURL string
	// MaxInFlight bounds how many events fn may be handling at once; a
	// delivery beyond it is answered 503 (JustCall does not document
	// whether it redelivers). Zero means 64.
	MaxInFlight int
	// Timeout bounds one fn call. Zero means 30s.
	Timeout time.Duration
	// DedupeTTL is how long a delivery (its request_id and signature) is
	// remembered. Zero means 24h with a TimestampZone; without one it
	// means MaxZoneOffset-MinZoneOffset plus twice the tolerance (26h10m
	// by default), the time a signed timestamp can pass the window, so
	// that a replay is caught by the dedupe for as long as it could pass
	// the window. A shorter DedupeTTL leaves replays of older deliveries
	// to the window alone.
	DedupeTTL time.Duration
	// Logger receives fn's errors and refused requests; nil is silent.
	Logger *slog.Logger
	// OnError receives every failure after a delivery was verified: fn's
	// errors and panics, deliveries answered 503 because the handler was
	// busy or closed.
	OnError func(ctx context.Context, err *telephony.HandlerError)
	// Observer is told of each answered request; nil costs nothing.
	Observer telephony.Observer
	// Sync runs fn before answering: 200 once it returned nil, 500 when it
	// failed (the delivery is then forgotten, so a redelivery is
	// processed). JustCall does not document whether or when it
	// redelivers after a 5xx. The durable log is not used in Sync mode.
	Sync bool
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

// WebhookHandler receives JustCall's v2.1 webhooks (see NewWebhookHandler).
// It is an http.Handler; Close it on shutdown to wait for events being
// handled.
type WebhookHandler struct {
	inbox   *webhook.Inbox
	m       *webhook.Meter
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
// The request timestamp ("2024-03-21 17:08:22") names no zone, and
// JustCall's documents do not say which one it is in. Read as UTC, a
// timestamp written in local time would be hours away from now and every
// genuine delivery would be refused. So unless opts.TimestampZone pins the
// zone, the handler reads the timestamp as UTC, takes out the whole-hour
// offset in [MinZoneOffset, MaxZoneOffset] nearest to its distance from
// now, and applies opts.Tolerance to what is left; CallEvent.Time, when
// taken from the timestamp, is corrected by that offset. The trade-off: a
// captured delivery passes the window not once but in one window per hour
// for up to 26 hours (plus the tolerance). Replays stay out because the
// signature covers the timestamp (it cannot be moved) and the dedupe
// remembers every delivery's request_id and signature for that long (see
// WebhookOptions.DedupeTTL); a dedupe that forgets sooner (a short
// DedupeTTL, more than 100,000 deliveries in the period, a restart, or
// another replica behind the same URL, since the dedupe is in memory)
// reopens those windows. Set opts.TimestampZone once you know your account's zone to get
// the plain 300 s window back.
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
// Type set to JustCall's type and Raw to the delivery's body; other
// verified events are acknowledged and ignored. The handler answers at once
// and calls fn in the background, with the request's context values; when
// opts.MaxInFlight events are in hand it answers 503. With opts.Sync it
// answers after fn returned.
func NewWebhookHandler(fn telephony.EventFunc, opts WebhookOptions) (*WebhookHandler, error) {
	const op = "NewWebhookHandler"
	if fn == nil {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, op, "fn is nil")
	}
	if opts.Secret == "" {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, op, "WebhookOptions.Secret (the API secret) is required to verify signatures")
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = DefaultTolerance
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DedupeTTL <= 0 && opts.TimestampZone == nil {
		opts.DedupeTTL = MaxZoneOffset - MinZoneOffset + 2*opts.Tolerance
	}
	secrets := []string{opts.Secret}
	for _, s := range opts.PreviousSecrets {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	m := webhook.NewMeter(telephony.ProviderJustCall, "webhook", opts.Logger, opts.Observer, opts.OnError)
	h := &WebhookHandler{m: m, secrets: secrets, opts: opts,
		inbox: webhook.NewInbox(webhook.InboxConfig{Provider: telephony.ProviderJustCall, Name: "webhook", Stream: opts.Stream,
			Fn: fn, Meter: m, Store: opts.State, MaxInFlight: opts.MaxInFlight, Timeout: opts.Timeout, DedupeTTL: opts.DedupeTTL,
			Sync: opts.Sync})}
	m.InFlight = h.inbox.InFlight
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	h.m.Received()
	reject := func(status int, reason string, err error) {
		h.m.Log().WarnContext(ctx, "justcall webhook: request refused", "status", status, "reason", err.Error())
		webhook.Error(w, status, err.Error())
		h.m.Answer(ctx, start, webhook.ResultRejected, reason, "", status, "", err)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, telephony.RejectMethod, errors.New("use POST"))
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
	env, offset, err := verifyIn(h.secrets, r.Header, body, h.opts.Tolerance, h.opts.TimestampZone, h.opts.Now())
	if err != nil {
		reject(http.StatusUnauthorized, telephony.RejectUnauthorized, err)
		return
	}
	if h.opts.WebhookURL != "" && env.WebhookURL != h.opts.WebhookURL {
		reject(http.StatusUnauthorized, telephony.RejectUnauthorized, errors.New("webhook_url is not this endpoint's"))
		return
	}
	ev, err := decodeEventIn(env, r.Header.Get(HeaderRequestTimestamp), offset)
	if errors.Is(err, errNotCallEvent) {
		w.WriteHeader(http.StatusOK)
		h.m.Answer(ctx, start, webhook.ResultIgnored, "", "", http.StatusOK, "", nil)
		return
	}
	if err != nil {
		reject(http.StatusBadRequest, telephony.RejectMalformed, err)
		return
	}
	ev.Raw = append(json.RawMessage(nil), body...)
	key := state.KeyOf("justcall-webhook", env.RequestID)
	if env.RequestID == "" {
		// No request id: fall back to what identifies the state change.
		key = state.KeyOf("justcall-webhook", env.Type, ev.CallID, r.Header.Get(HeaderRequestTimestamp))
	}
	h.inbox.Dispatch(w, r, start, ev, key, replayKey(r.Header.Get(HeaderSignature), env, ev))
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
func (h *WebhookHandler) Close(ctx context.Context) error { return h.inbox.Close(ctx) }

// Stats returns the handler's counters.
func (h *WebhookHandler) Stats() telephony.HandlerStats { return h.m.Stats() }

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

// verify checks a delivery's signature and timestamp against each secret,
// accepting any whole-hour zone offset (see verifyIn).
func verify(secrets []string, h http.Header, body []byte, tolerance time.Duration, now time.Time) (*envelope, error) {
	env, _, err := verifyIn(secrets, h, body, tolerance, nil, now)
	return env, err
}

// verifyIn checks a delivery's signature and timestamp against each secret
// and returns the zone offset the timestamp was written in. With a nil zone
// a zone-less timestamp (TimestampLayout) is read as UTC and any whole-hour
// offset in [MinZoneOffset, MaxZoneOffset] is allowed (zoneOffset); one
// that names its zone (Unix seconds, RFC 3339) gets the plain window. Only the envelope
// is decoded; data is left raw.
func verifyIn(secrets []string, h http.Header, body []byte, tolerance time.Duration, zone *time.Location, now time.Time) (*envelope, time.Duration, error) {
	sigHex := strings.TrimSpace(h.Get(HeaderSignature))
	if sigHex == "" {
		return nil, 0, errors.New("missing " + HeaderSignature)
	}
	if v := strings.TrimSpace(h.Get(HeaderSignatureVersion)); v != "" && !strings.EqualFold(v, "v1") {
		return nil, 0, fmt.Errorf("unsupported signature version %.10q", v)
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil || len(got) != sha256.Size {
		return nil, 0, errors.New("malformed " + HeaderSignature)
	}
	ts := h.Get(HeaderRequestTimestamp)
	at, err := parseTime(ts)
	if err != nil || ts == "" {
		return nil, 0, errors.New("missing or malformed " + HeaderRequestTimestamp)
	}
	if _, err := time.Parse(TimestampLayout, strings.TrimSpace(ts)); err != nil {
		zone = time.UTC // Unix seconds or RFC 3339 carry their zone: no offset to guess
	}
	offset, inWindow := zoneOffset(now, at, tolerance, zone)
	if !inWindow {
		return nil, 0, errors.New("request timestamp outside the allowed window: check the server clock, or set WebhookOptions.TimestampZone to the zone JustCall writes it in")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, 0, errors.New("body is not a JustCall webhook envelope")
	}
	if env.Type == "" || env.WebhookURL == "" {
		return nil, 0, errors.New("webhook_url or type missing")
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
		return nil, 0, errors.New("signature does not match")
	}
	return &env, offset, nil
}

// zoneOffset reports the zone offset of a request timestamp at, read as
// UTC, and whether it is within tolerance of now. With a zone, at is the
// wall clock of that zone (its offset at that moment) and only that offset
// is allowed. Without one, the offset is the whole hour in
// [MinZoneOffset, MaxZoneOffset] nearest to at-now: a timestamp written in
// UTC+2 reads two hours ahead of now.
func zoneOffset(now, at time.Time, tolerance time.Duration, zone *time.Location) (time.Duration, bool) {
	var offset time.Duration
	if zone != nil {
		local := time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), at.Nanosecond(), zone)
		offset = at.Sub(local)
	} else {
		offset = min(max(at.Sub(now).Round(time.Hour), MinZoneOffset), MaxZoneOffset)
	}
	d := now.Sub(at.Add(-offset))
	return offset, d <= tolerance && d >= -tolerance
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

// decodeEvent turns a verified envelope into a CallEvent. requestTS, read
// as UTC, is used when the call object carries no time.
func decodeEvent(env *envelope, requestTS string) (telephony.CallEvent, error) {
	return decodeEventIn(env, requestTS, 0)
}

// decodeEventIn is decodeEvent for a requestTS written in a zone offset
// from UTC by offset.
func decodeEventIn(env *envelope, requestTS string, offset time.Duration) (telephony.CallEvent, error) {
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
	// JustCall writes contact numbers without the '+' (14155550100).
	ev.From = telephony.NormalizeNumber(firstNonEmpty(ev.From, string(d.From)))
	ev.To = telephony.NormalizeNumber(firstNonEmpty(ev.To, string(d.To)))
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
		ev.Time = t.Add(-offset)
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
