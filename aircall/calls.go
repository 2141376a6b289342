package aircall

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// Call statuses as Aircall reports them in Call.Status.
const (
	CallStatusInitial  = "initial"  // ringing, in the IVR or queued
	CallStatusAnswered = "answered" // an agent is on the call
	CallStatusDone     = "done"     // the call has ended
)

// Call is an Aircall call. Times are Unix seconds, as Aircall sends them;
// zero means "not yet".
type Call struct {
	ID               int64   `json:"id"`
	DirectLink       string  `json:"direct_link,omitempty"`
	Direction        string  `json:"direction"` // "inbound" or "outbound"
	Status           string  `json:"status"`    // CallStatusInitial, ...
	MissedCallReason string  `json:"missed_call_reason,omitempty"`
	StartedAt        int64   `json:"started_at,omitempty"`
	AnsweredAt       int64   `json:"answered_at,omitempty"`
	EndedAt          int64   `json:"ended_at,omitempty"`
	Duration         int64   `json:"duration,omitempty"`   // seconds
	RawDigits        string  `json:"raw_digits,omitempty"` // the other party, as Aircall formats it
	Archived         bool    `json:"archived,omitempty"`
	User             *User   `json:"user,omitempty"`   // the agent who took or placed it
	Number           *Number `json:"number,omitempty"` // the company's number
	TransferredBy    *User   `json:"transferred_by,omitempty"`
	TransferredTo    *User   `json:"transferred_to,omitempty"`
}

// Transferable reports whether a transfer still makes sense: the call has
// not ended and nobody has transferred it yet.
func (c *Call) Transferable() bool {
	return c.Status != CallStatusDone && c.EndedAt == 0 && c.TransferredTo == nil
}

// Started returns StartedAt as a time (zero when unset).
func (c *Call) Started() time.Time { return unixTime(c.StartedAt) }

// CallsService is the /v1/calls resource.
type CallsService struct {
	c *Client
}

// Get returns one call.
//
// API: GET /v1/calls/{id}
func (s *CallsService) Get(ctx context.Context, id int64) (*Call, error) {
	const route = "/v1/calls/{id}"
	if id <= 0 {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op(http.MethodGet, route), "call id %d must be positive", id)
	}
	var out struct {
		Call Call `json:"call"`
	}
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/v1/calls/" + strconv.FormatInt(id, 10), Route: route, Out: &out}); err != nil {
		return nil, err
	}
	return &out.Call, nil
}

// TransferRequest names where Calls.Transfer sends a call: exactly one of
// UserID, TeamID and Number.
type TransferRequest struct {
	UserID int64 `json:"user_id,omitempty"`
	TeamID int64 `json:"team_id,omitempty"`
	// Number is an external number in E.164.
	Number string `json:"number,omitempty"`
	// DispatchingStrategy says how a team rings its members (for example
	// "longest_idle" or "random"); Aircall accepts it only with TeamID.
	DispatchingStrategy string `json:"dispatching_strategy,omitempty"`
}

func (r TransferRequest) validate() string {
	n := 0
	if r.UserID != 0 {
		n++
	}
	if r.TeamID != 0 {
		n++
	}
	if r.Number != "" {
		n++
	}
	switch {
	case n != 1:
		return "set exactly one of UserID, TeamID and Number"
	case r.UserID < 0 || r.TeamID < 0:
		return "UserID and TeamID must be positive"
	case r.DispatchingStrategy != "" && r.TeamID == 0:
		return "DispatchingStrategy is allowed only with TeamID"
	case strings.ContainsAny(r.DispatchingStrategy, " \t\r\n"):
		return "DispatchingStrategy must be a single word such as \"longest_idle\""
	}
	if r.Number != "" {
		if err := telephony.ValidateE164(r.Number); err != nil {
			return "Number: " + err.Error()
		}
	}
	return ""
}

// Transfer moves the live call to a user, a team or an external number. The
// request is checked first (exactly one destination; DispatchingStrategy
// only with a team) and nothing is sent when it is invalid.
//
// Transfer is never resent once it may have reached Aircall: after a 5xx, a
// timeout or a dropped connection it returns an error matching
// telephony.ErrOutcomeUnknown; read the call (Get) before trying again. A 429
// is waited out and resent, since Aircall refused it before acting.
//
// API: POST /v1/calls/{id}/transfers
func (s *CallsService) Transfer(ctx context.Context, callID int64, req TransferRequest) error {
	const route = "/v1/calls/{id}/transfers"
	o := op(http.MethodPost, route)
	if callID <= 0 {
		return telephony.InvalidArgument(telephony.ProviderAircall, o, "call id %d must be positive", callID)
	}
	if msg := req.validate(); msg != "" {
		return telephony.InvalidArgument(telephony.ProviderAircall, o, "%s", msg)
	}
	_, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost,
		Path: "/v1/calls/" + strconv.FormatInt(callID, 10) + "/transfers", Route: route, Body: req})
	return err
}

func unixTime(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// UnmarshalJSON accepts the call id as a number or a numeric string, so a
// webhook body is not refused over the id's encoding.
func (c *Call) UnmarshalJSON(b []byte) error {
	type plain Call
	v := struct {
		*plain
		ID jsonx.Int64 `json:"id"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	c.ID = int64(v.ID)
	return nil
}
