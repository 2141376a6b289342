package dialpad

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// CallsPerUserPerMinute is Dialpad's limit on call initiations per user.
// The client keeps a bucket per user (5 at once, then one every 12 s),
// shared by every replica when the client's state is (see WithState in
// package telephony); a bucket is forgotten only once it is full again, so
// the limit holds however many users call at once.
const CallsPerUserPerMinute = 5

var groupTypes = map[string]bool{"callcenter": true, "department": true, "office": true}

var transferStates = map[string]bool{"hold": true, "parked": true, "preanswer": true, "voicemail": true}

var transferTargetTypes = map[string]bool{"callcenter": true, "department": true, "office": true, "user": true}

// InitiateCallRequest is the body of Calls.Initiate (RingCallMessage):
// Dialpad rings the user's devices (or one device) and then calls
// PhoneNumber.
type InitiateCallRequest struct {
	// PhoneNumber is the E.164 number to call. Required.
	PhoneNumber string `json:"phone_number"`
	// UserID is the user who makes the call. Required.
	UserID int64 `json:"user_id"`
	// DeviceID rings only this device of the user.
	DeviceID string `json:"device_id,omitempty"`
	// GroupID and GroupType (callcenter, department or office) place the
	// call on behalf of a group; set both or neither.
	GroupID   int64  `json:"group_id,omitempty"`
	GroupType string `json:"group_type,omitempty"`
	// OutboundCallerID is the E.164 number shown to the callee, or
	// "blocked".
	OutboundCallerID string `json:"outbound_caller_id,omitempty"`
	// IsConsult puts the user's ongoing call on hold and starts a second.
	IsConsult bool `json:"is_consult,omitempty"`
	// CustomData is passed through to call events.
	CustomData string `json:"custom_data,omitempty"`
}

// Call is the answer to Calls.Initiate (RingCallProto).
type Call struct {
	CallID int64 `json:"call_id"`
}

// UnmarshalJSON accepts the id as a number or a numeric string.
func (c *Call) UnmarshalJSON(b []byte) error {
	var w struct {
		CallID jsonx.Int64 `json:"call_id"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	c.CallID = int64(w.CallID)
	return nil
}

// TransferRequest is the body of Calls.Transfer (TransferCallMessage).
type TransferRequest struct {
	// To is the destination: exactly one of an ongoing call, a number or a
	// target.
	To TransferDestination `json:"to"`
	// TransferState is the state the call takes: hold, parked, preanswer or
	// voicemail. Empty lets Dialpad decide.
	TransferState string `json:"transfer_state,omitempty"`
	// CustomData is passed through to call events.
	CustomData string `json:"custom_data,omitempty"`
}

// TransferDestination names exactly one destination: CallID (merge into an
// ongoing call), Number (E.164), or TargetID with TargetType (callcenter,
// department, office or user).
type TransferDestination struct {
	CallID     int64
	Number     string
	TargetID   int64
	TargetType string
}

// MarshalJSON writes only the destination that is set, as Dialpad's oneOf
// expects.
func (d TransferDestination) MarshalJSON() ([]byte, error) {
	switch {
	case d.CallID != 0:
		return json.Marshal(struct {
			CallID int64 `json:"call_id"`
		}{d.CallID})
	case d.Number != "":
		return json.Marshal(struct {
			Number string `json:"number"`
		}{d.Number})
	default:
		return json.Marshal(struct {
			TargetID   int64  `json:"target_id"`
			TargetType string `json:"target_type"`
		}{d.TargetID, d.TargetType})
	}
}

// Transfer is the answer to Calls.Transfer (TransferredCallProto).
type Transfer struct {
	CallID              int64  `json:"call_id"`
	TransferredToNumber string `json:"transferred_to_number,omitempty"`
	TransferredToState  string `json:"transferred_to_state,omitempty"`
}

// UnmarshalJSON accepts the id as a number or a numeric string.
func (t *Transfer) UnmarshalJSON(b []byte) error {
	type plain Transfer
	var w struct {
		plain
		CallID jsonx.Int64 `json:"call_id"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = Transfer(w.plain)
	t.CallID = int64(w.CallID)
	return nil
}

// CallsService places and transfers calls. Get it from Client.Calls.
type CallsService struct {
	c *Client
}

// Initiate rings the user's devices and, once answered, calls
// req.PhoneNumber (POST /api/v2/call).
//
// Dialpad allows 5 initiations per minute per user. The client enforces it
// per user before sending: when the user's next slot is further away than
// the context deadline (or the client's maximum retry wait), Initiate fails
// at once with an error matching telephony.ErrRateLimited whose RetryAfter
// says how long to wait; otherwise it waits for the slot.
//
// The request is never sent twice unless Dialpad provably did nothing with
// it; a lost answer gives an error matching telephony.ErrOutcomeUnknown, and
// the phone may or may not ring.
func (s *CallsService) Initiate(ctx context.Context, req InitiateCallRequest) (*Call, error) {
	const op = "POST /api/v2/call"
	if err := req.validate(op); err != nil {
		return nil, err
	}
	lim := s.c.t.Account().Keyed("dialpad.call.initiate", time.Minute/CallsPerUserPerMinute, CallsPerUserPerMinute)
	release, wait, ok, err := lim.Take(ctx, strconv.FormatInt(req.UserID, 10), s.c.maxWait())
	if err != nil {
		return nil, &telephony.Error{Kind: telephony.ErrRateLimited, Provider: telephony.ProviderDialpad, Op: op, RetryAfter: wait,
			Message: "the context ended while waiting for the user's call initiation limit; nothing was sent", Err: err}
	}
	if !ok {
		return nil, rateLimited(op, wait, fmt.Sprintf(
			"Dialpad allows %d call initiations per minute per user; user %d's next slot is in %v",
			CallsPerUserPerMinute, req.UserID, wait.Round(time.Millisecond)))
	}
	var out Call
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost, Path: "/api/v2/call", Body: req, Out: &out}); err != nil {
		if !mayHaveActed(err) {
			release() // nothing rang: the user keeps the slot
		}
		return nil, err
	}
	return &out, nil
}

// Transfer moves the live call callID to req.To (POST
// /api/v2/call/{id}/transfer). The destination is validated first: exactly
// one of a call id, an E.164 number or a target. Like Initiate, it is never
// sent twice unless Dialpad provably did nothing with it.
func (s *CallsService) Transfer(ctx context.Context, callID int64, req TransferRequest) (*Transfer, error) {
	const op = "POST /api/v2/call/{id}/transfer"
	if callID <= 0 {
		return nil, invalid(op, "call id %d must be positive", callID)
	}
	if err := req.validate(op); err != nil {
		return nil, err
	}
	var out Transfer
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost, Path: "/api/v2/call/" + strconv.FormatInt(callID, 10) + "/transfer",
		Route: "/api/v2/call/{id}/transfer", Body: req, Out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *InitiateCallRequest) validate(op string) error {
	if err := telephony.ValidateE164(r.PhoneNumber); err != nil {
		return invalid(op, "phone_number: %v", err)
	}
	if r.UserID <= 0 {
		return invalid(op, "user_id is required: the Dialpad user whose devices ring first")
	}
	if (r.GroupID != 0) != (r.GroupType != "") {
		return invalid(op, "group_id and group_type go together: set both or neither")
	}
	if r.GroupType != "" && !groupTypes[r.GroupType] {
		return invalid(op, "group_type %q is not one of callcenter, department, office", r.GroupType)
	}
	if r.GroupID < 0 {
		return invalid(op, "group_id %d must be positive", r.GroupID)
	}
	if r.OutboundCallerID != "" && r.OutboundCallerID != "blocked" {
		if err := telephony.ValidateE164(r.OutboundCallerID); err != nil {
			return invalid(op, "outbound_caller_id must be E.164 or \"blocked\": %v", err)
		}
	}
	return nil
}

func (r *TransferRequest) validate(op string) error {
	d := r.To
	n := 0
	if d.CallID != 0 {
		n++
	}
	if d.Number != "" {
		n++
	}
	if d.TargetID != 0 || d.TargetType != "" {
		n++
	}
	switch {
	case n == 0:
		return invalid(op, "the transfer has no destination: set To.CallID, To.Number, or To.TargetID with To.TargetType")
	case n > 1:
		return invalid(op, "the transfer names %d destinations; set exactly one of To.CallID, To.Number, To.TargetID+TargetType", n)
	}
	switch {
	case d.CallID < 0:
		return invalid(op, "to.call_id %d must be positive", d.CallID)
	case d.Number != "":
		if err := telephony.ValidateE164(d.Number); err != nil {
			return invalid(op, "to.number: %v", err)
		}
	case d.CallID == 0:
		if d.TargetID <= 0 {
			return invalid(op, "to.target_id is required with to.target_type and must be positive")
		}
		if !transferTargetTypes[d.TargetType] {
			return invalid(op, "to.target_type %q is not one of callcenter, department, office, user", d.TargetType)
		}
	}
	if r.TransferState != "" && !transferStates[r.TransferState] {
		return invalid(op, "transfer_state %q is not one of hold, parked, preanswer, voicemail", r.TransferState)
	}
	return nil
}
