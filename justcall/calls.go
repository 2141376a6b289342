package justcall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// CallsService places click-to-call calls.
type CallsService struct{ c *Client }

// MakeCallRequest is the body of POST /v2/calls/make.
type MakeCallRequest struct {
	// From is the JustCall number to dial from, in E.164. Required.
	From string
	// To is the customer's number, in E.164. Required.
	To string
	// AgentID is the agent whose devices ring first; zero lets JustCall use
	// the owner of the From number.
	AgentID int64
	// CallbackURL receives a POST at each stage of the call; decode them
	// with NewCallbackHandler. It must be an absolute http(s) URL.
	CallbackURL string
	// CallerID overrides the caller id the customer sees (a verified
	// number, E.164).
	CallerID string
}

// Call is the call JustCall reports after Make.
type Call struct {
	CallID    string
	From      string
	To        string
	AgentID   int64
	Direction string // "outbound"
	Status    string // "ringing" right after Make
}

type makeCallBody struct {
	From        string `json:"from"`
	To          string `json:"to"`
	AgentID     int64  `json:"agent_id,omitempty"`
	CallbackURL string `json:"callback_url,omitempty"`
	CallerID    string `json:"caller_id,omitempty"`
}

type makeCallResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Data    struct {
		CallID    jsonx.String `json:"call_id"`
		From      string       `json:"from"`
		To        string       `json:"to"`
		AgentID   jsonx.Int64  `json:"agent_id"` // a number in the click-to-call guide; numeric strings accepted too
		Direction string       `json:"direction"`
		Status    string       `json:"status"`
	} `json:"data"`
}

// DefaultMakeCallPath is the path Calls.Make posts to unless
// Client.SetMakeCallPath changes it. It comes from a click-to-call guide
// and is NOT in JustCall's v2.1 API reference nor in JustCall's official
// code (which has no click-to-call for human agents): confirm it with
// JustCall for your account before relying on it.
const DefaultMakeCallPath = "/v2/calls/make"

// MakeCallUnverified is what Capabilities().Unverified says of JustCall.
const MakeCallUnverified = "Dial: JustCall's POST " + DefaultMakeCallPath +
	" is not in JustCall's v2.1 API reference; confirm it with JustCall, or set the path JustCall gives you with justcall.Client.SetMakeCallPath"

// Make rings the agent and then connects the customer: POST /v2/calls/make
// (a "Click-to-Call via API" guide; the endpoint is not in JustCall's v2.1
// reference, see DefaultMakeCallPath and Client.SetMakeCallPath). From and
// To must be E.164; invalid
// input returns an error matching telephony.ErrInvalidRequest and sends
// nothing.
//
// JustCall's 400 (missing field), 401 (credentials), 404 (From is not a
// number of the account) and 429 (rate limit) map to ErrInvalidRequest,
// ErrUnauthorized, ErrNotFound and ErrRateLimited, keeping JustCall's
// message. A 429 is waited out (until the reset JustCall gives, up to
// telephony.WithMaxRetryWait) and the call sent again, since JustCall
// rejected it before acting. Make is never resent after the request may have
// reached JustCall: a 5xx, a timeout or a dropped connection returns an
// error matching telephony.ErrOutcomeUnknown, and the phone may ring; check
// the call log before calling again.
//
// When SetCallbackToken was called, the token is added to CallbackURL.
func (s *CallsService) Make(ctx context.Context, req MakeCallRequest) (*Call, error) {
	const op = "Calls.Make"
	invalid := func(format string, args ...any) error {
		return telephony.InvalidArgument(telephony.ProviderJustCall, op, format, args...)
	}
	if err := telephony.ValidateE164(req.From); err != nil {
		return nil, invalid("From: %v", err)
	}
	if err := telephony.ValidateE164(req.To); err != nil {
		return nil, invalid("To: %v", err)
	}
	if req.AgentID < 0 {
		return nil, invalid("AgentID %d is negative", req.AgentID)
	}
	if req.CallerID != "" {
		if err := telephony.ValidateE164(req.CallerID); err != nil {
			return nil, invalid("CallerID: %v", err)
		}
	}
	cb := req.CallbackURL
	if cb != "" {
		var err error
		if cb, err = withCallbackToken(cb, s.c.token()); err != nil {
			return nil, invalid("CallbackURL: %v", err)
		}
	}
	var out makeCallResponse
	path := s.c.makeCallPath()
	resp, err := s.c.t.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   path,
		Body: makeCallBody{From: req.From, To: req.To, AgentID: req.AgentID,
			CallbackURL: cb, CallerID: req.CallerID},
		Out: &out,
	})
	if err != nil {
		return nil, err
	}
	if out.Data.CallID == "" {
		// A 2xx without a call id: the call may well ring, so the outcome
		// is unknown (still a bad response too) rather than an invitation
		// to a second attempt.
		return nil, &telephony.Error{Kind: telephony.ErrOutcomeUnknown, Err: telephony.ErrBadResponse, Provider: telephony.ProviderJustCall,
			Op: http.MethodPost + " " + path, StatusCode: resp.StatusCode, RequestID: resp.RequestID,
			Attempts: resp.Attempts,
			Message:  "JustCall answered without a call_id (status " + quoteOrEmpty(out.Status) + ", message " + quoteOrEmpty(out.Message) + "); the call may have been placed, do not send it again"}
	}
	return &Call{
		CallID:    string(out.Data.CallID),
		From:      out.Data.From,
		To:        out.Data.To,
		AgentID:   int64(out.Data.AgentID),
		Direction: out.Data.Direction,
		Status:    out.Data.Status,
	}, nil
}

func quoteOrEmpty(s string) string {
	if s == "" {
		return "empty"
	}
	return `"` + s + `"`
}

// withCallbackToken validates raw and, when token is set, adds it as the
// CallbackTokenParam query parameter (replacing any value already there).
func withCallbackToken(raw, token string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("must be an absolute http or https URL")
	}
	if u.User != nil {
		return "", errors.New("must not contain user:password")
	}
	if token == "" {
		return raw, nil
	}
	q := u.Query()
	q.Set(CallbackTokenParam, token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// CallDetails is one call as GET /v2.1/calls/{id} returns it: the v2.1
// call object (developer.justcall.io "JustCall Call Object"), the same
// object a call webhook carries in data.
//
// What is verified: the route and the field names below, which JustCall's
// call object, its official MCP server's GetCallDto ({id, fetch_queue_data,
// fetch_ai_data}) and several independent clients agree on; call_info
// holds direction ("Incoming"/"Outgoing") and type ("Answered", "Missed",
// ...), call_duration holds total_duration in seconds. What is not: the
// envelope. Clients read {"status": "success", "data": {...}}, so Get
// decodes that, and also accepts data as a one-element array or the object
// at the top level. Every field is decoded leniently (numbers or numeric
// strings, missing fields left zero); Raw keeps the whole object for the
// rest (queue data, AI data, recordings, tags).
type CallDetails struct {
	// ID is JustCall's call id, as written (a number in v2.1, such as
	// 178632100). CallSID is the call's SID, when present.
	ID      string
	CallSID string
	// ContactNumber is the customer's number; JustCallNumber is the
	// account's line. JustCall writes them as it stored them, not always
	// in E.164.
	ContactNumber  string
	ContactName    string
	JustCallNumber string
	AgentID        int64
	AgentName      string
	AgentEmail     string
	// CallDate (yyyy-mm-dd) and CallTime (hh:mm:ss) are in UTC according
	// to the clients we read (unverified); CallUserDate and CallUserTime
	// are in the account's time zone.
	CallDate     string
	CallTime     string
	CallUserDate string
	CallUserTime string
	// Direction is call_info.direction ("Incoming" or "Outgoing"), or the
	// top-level direction when call_info has none. Type is call_info.type
	// ("Answered", "Missed", "Unanswered", "Voicemail", ...).
	Direction   string
	Type        string
	Disposition string
	Notes       string
	Recording   string
	// Duration is call_duration.total_duration (or a top-level duration),
	// in seconds.
	Duration int64
	// Raw is the call object exactly as JustCall sent it.
	Raw json.RawMessage
}

type wireCallDetails struct {
	ID             jsonx.String `json:"id"`
	CallSID        jsonx.String `json:"call_sid"`
	ContactNumber  jsonx.String `json:"contact_number"`
	ContactName    jsonx.String `json:"contact_name"`
	JustCallNumber jsonx.String `json:"justcall_number"`
	AgentID        jsonx.Int64  `json:"agent_id"`
	AgentName      jsonx.String `json:"agent_name"`
	AgentEmail     jsonx.String `json:"agent_email"`
	CallDate       jsonx.String `json:"call_date"`
	CallTime       jsonx.String `json:"call_time"`
	CallUserDate   jsonx.String `json:"call_user_date"`
	CallUserTime   jsonx.String `json:"call_user_time"`
	Direction      jsonx.String `json:"direction"`
	Duration       jsonx.String `json:"duration"` // seconds, when a number
	// Kept raw and decoded apart, so that an unexpected shape in one of
	// them does not cost the whole call.
	CallInfo     json.RawMessage `json:"call_info"`
	CallDuration json.RawMessage `json:"call_duration"`
}

type wireCallInfo struct {
	Direction   jsonx.String `json:"direction"`
	Type        jsonx.String `json:"type"`
	Disposition jsonx.String `json:"disposition"`
	Notes       jsonx.String `json:"notes"`
	Recording   jsonx.String `json:"recording"`
}

type wireCallDuration struct {
	TotalDuration jsonx.Int64 `json:"total_duration"`
}

const routeGetCall = "/v2.1/calls/{id}"

// maxCallIDLen bounds a call id; JustCall's are numbers of a few digits.
const maxCallIDLen = 64

// Get reads one call: GET /v2.1/calls/{id}. id is
// JustCall's call id as a webhook's data.id carries it (CallEvent.CallID),
// or as Make returned it; it must be letters, digits, '_' or '-', which
// every JustCall id is, and anything else is refused with
// telephony.ErrInvalidRequest before sending.
//
// Get exists because JustCall's v2.1 webhook signature does not cover the
// body's data (see NewWebhookHandler): a verified delivery proves that
// JustCall sent some event of that type, not what the call looks like.
// Re-read the call by id with Get, and act on what Get returns rather than
// on the webhook's data.
//
// An unknown id maps to telephony.ErrNotFound. Get is a read: the transport
// retries it after 5xx answers and timeouts. A 2xx answer without a call
// object (or one without an id) is telephony.ErrBadResponse.
func (s *CallsService) Get(ctx context.Context, id string) (*CallDetails, error) {
	if err := validCallID(id); err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, "Calls.Get", "call id: %v", err)
	}
	var raw json.RawMessage
	resp, err := s.c.t.Do(ctx, &transport.Request{
		Method: http.MethodGet, Path: "/v2.1/calls/" + id, Route: routeGetCall, Out: &raw,
	})
	if err != nil {
		return nil, err
	}
	d, ok := decodeCallDetails(raw)
	if !ok {
		return nil, &telephony.Error{Kind: telephony.ErrBadResponse, Provider: telephony.ProviderJustCall,
			Op: http.MethodGet + " " + routeGetCall, StatusCode: resp.StatusCode, RequestID: resp.RequestID,
			Attempts: resp.Attempts, Message: "JustCall answered without a call object carrying an id"}
	}
	return d, nil
}

func validCallID(id string) error {
	if id == "" {
		return errors.New("empty")
	}
	if len(id) > maxCallIDLen {
		return fmt.Errorf("longer than %d characters", maxCallIDLen)
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-') {
			return fmt.Errorf("%q has a character other than letters, digits, '_' and '-'", id)
		}
	}
	return nil
}

// decodeCallDetails finds the call object in body ({"data": {...}},
// {"data": [{...}]} or the object itself) and decodes it. It reports false
// when there is no object with an id.
func decodeCallDetails(body []byte) (*CallDetails, bool) {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil, false
	}
	obj := bytes.TrimSpace(env.Data)
	switch {
	case len(obj) > 0 && obj[0] == '[':
		var list []json.RawMessage
		if json.Unmarshal(obj, &list) != nil || len(list) != 1 {
			return nil, false
		}
		obj = bytes.TrimSpace(list[0])
	case len(obj) == 0 || string(obj) == "null":
		obj = bytes.TrimSpace(body)
	}
	if len(obj) == 0 || obj[0] != '{' {
		return nil, false
	}
	var w wireCallDetails
	if json.Unmarshal(obj, &w) != nil || w.ID == "" {
		return nil, false
	}
	var info wireCallInfo
	_ = json.Unmarshal(w.CallInfo, &info) // absent or another shape: left zero
	var dur wireCallDuration
	_ = json.Unmarshal(w.CallDuration, &dur)
	d := &CallDetails{
		ID: string(w.ID), CallSID: string(w.CallSID),
		ContactNumber: string(w.ContactNumber), ContactName: string(w.ContactName),
		JustCallNumber: string(w.JustCallNumber),
		AgentID:        int64(w.AgentID), AgentName: string(w.AgentName), AgentEmail: string(w.AgentEmail),
		CallDate: string(w.CallDate), CallTime: string(w.CallTime),
		CallUserDate: string(w.CallUserDate), CallUserTime: string(w.CallUserTime),
		Direction: firstNonEmpty(string(info.Direction), string(w.Direction)),
		Type:      string(info.Type), Disposition: string(info.Disposition),
		Notes: string(info.Notes), Recording: string(info.Recording),
		Duration: int64(dur.TotalDuration),
		Raw:      append(json.RawMessage(nil), obj...),
	}
	if d.Duration == 0 {
		d.Duration, _ = strconv.ParseInt(string(w.Duration), 10, 64) // "00:01:23" and the like: left zero
	}
	return d, true
}
