package justcall

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// WebhookEvent is a JustCall v2.1 webhook delivery as ParseWebhook
// verified it: the envelope, with data left raw (the call object for call
// events).
type WebhookEvent struct {
	RequestID  string          // request_id: the delivery's id (not signed)
	WebhookURL string          // webhook_url (signed)
	URLID      string          // url_id
	Type       string          // type, e.g. "call.completed" (signed)
	Data       json.RawMessage // data (not signed)
}

// Callback is a click-to-call callback as ParseCallback decoded it. Numbers
// may arrive as JSON numbers or strings; they are kept as written.
type Callback struct {
	CallID    string
	Status    string // ringing, in-progress, completed, no-answer, busy, failed
	Duration  string // seconds
	Timestamp string
	From, To  string // sent by some integrations
	AgentID   int64
	Direction string
}

// ParseWebhook verifies a JustCall v2.1 webhook delivery (its signature,
// with secret, and its timestamp, within DefaultTolerance of now after any
// whole-hour zone offset is taken out, as NewWebhookHandler does) and
// decodes it, for programs that keep deliveries in their own store before
// answering. It returns the portable event (with Raw set to body) and the
// envelope. A failed verification returns an error matching
// telephony.ErrInvalidSignature; a verified body that does not decode, one
// matching telephony.ErrInvalidRequest. A verified event that is not about
// a call (sms.*, contacts...) returns a zero CallEvent, its envelope and no
// error. Deduplicating redeliveries (CallEvent.DeliveryID) is the caller's
// part.
func ParseWebhook(body []byte, header http.Header, secret string) (telephony.CallEvent, *WebhookEvent, error) {
	const op = "ParseWebhook"
	if secret == "" {
		return telephony.CallEvent{}, nil, telephony.InvalidArgument(telephony.ProviderJustCall, op, "secret is empty")
	}
	env, offset, err := verifyIn([]string{secret}, header, body, DefaultTolerance, nil, time.Now())
	if err != nil {
		return telephony.CallEvent{}, nil, &telephony.Error{Kind: telephony.ErrInvalidSignature, Provider: telephony.ProviderJustCall,
			Op: op, Message: err.Error()}
	}
	we := &WebhookEvent{RequestID: env.RequestID, WebhookURL: env.WebhookURL, URLID: string(env.URLID), Type: env.Type, Data: env.Data}
	ev, err := decodeEventIn(env, header.Get(HeaderRequestTimestamp), offset)
	if errors.Is(err, errNotCallEvent) {
		return telephony.CallEvent{}, we, nil
	}
	if err != nil {
		return telephony.CallEvent{}, we, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: telephony.ProviderJustCall,
			Op: op, Message: err.Error()}
	}
	ev.Raw = append(json.RawMessage(nil), body...)
	return ev, we, nil
}

// ParseCallback checks a click-to-call callback's token (the
// CallbackTokenParam of requestURL's query, against token, in constant
// time) and decodes its body (JSON, or a form, by the Content-Type in
// header), for programs that keep callbacks in their own store before
// answering. It returns the portable event (with Raw set to body) and the
// callback as sent. A wrong or missing token returns an error matching
// telephony.ErrInvalidSignature; a body that does not decode, one
// matching telephony.ErrInvalidRequest. Deduplicating redeliveries (call
// id and status) is the caller's part.
func ParseCallback(body []byte, header http.Header, requestURL *url.URL, token string) (telephony.CallEvent, *Callback, error) {
	const op = "ParseCallback"
	if token == "" {
		return telephony.CallEvent{}, nil, telephony.InvalidArgument(telephony.ProviderJustCall, op, "token is empty")
	}
	got := ""
	if requestURL != nil {
		got = requestURL.Query().Get(CallbackTokenParam)
	}
	if !webhook.EqualSecret(got, token) {
		return telephony.CallEvent{}, nil, &telephony.Error{Kind: telephony.ErrInvalidSignature, Provider: telephony.ProviderJustCall,
			Op: op, Message: "missing or wrong callback token"}
	}
	ev, cb, err := decodeCallback(body, header.Get("Content-Type"), time.Now())
	if err != nil {
		return telephony.CallEvent{}, cb, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: telephony.ProviderJustCall,
			Op: op, Message: err.Error()}
	}
	return ev, cb, nil
}
