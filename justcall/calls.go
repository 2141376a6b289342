package justcall

import (
	"context"
	"errors"
	"net/http"
	"net/url"

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
		AgentID   jsonx.Int64  `json:"agent_id"` // a number in the seed; numeric strings accepted too
		Direction string       `json:"direction"`
		Status    string       `json:"status"`
	} `json:"data"`
}

const routeMakeCall = "/v2/calls/make"

// Make rings the agent and then connects the customer: POST /v2/calls/make
// (the seed "Click-to-Call via API"). From and To must be E.164; invalid
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
	resp, err := s.c.t.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   routeMakeCall,
		Body: makeCallBody{From: req.From, To: req.To, AgentID: req.AgentID,
			CallbackURL: cb, CallerID: req.CallerID},
		Out: &out,
	})
	if err != nil {
		return nil, err
	}
	if out.Data.CallID == "" {
		// A 2xx without a call id: the call may well ring, so say so
		// rather than invite a second attempt.
		return nil, &telephony.Error{Kind: telephony.ErrBadResponse, Provider: telephony.ProviderJustCall,
			Op: http.MethodPost + " " + routeMakeCall, StatusCode: resp.StatusCode, RequestID: resp.RequestID,
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
