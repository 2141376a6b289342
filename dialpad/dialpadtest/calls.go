package dialpadtest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/telephony"
)

// Call is a call the simulator placed (POST /api/v2/call) or received
// (SimulateInboundCall).
type Call struct {
	ID        int64
	Direction string // "outbound" or "inbound"
	// State is the latest call state: calling, ringing, connected, hangup...
	State string
	// UserID is the user who placed an outbound call.
	UserID           int64
	PhoneNumber      string // the number dialled (outbound)
	OutboundCallerID string
	DeviceID         string
	GroupID          int64
	GroupType        string
	IsConsult        bool
	CustomData       string
	// ExternalNumber is the customer's number, InternalNumber the Dialpad
	// number.
	ExternalNumber string
	InternalNumber string
	// TargetID and TargetType say who has the call.
	TargetID   int64
	TargetType string
	// MasterCallID and EntryPointCallID are, on an agent's (operator's)
	// leg, the customer's call; OperatorCallID is, on the customer's call,
	// the leg of the agent who took it (ConnectOperator). Zero otherwise.
	MasterCallID     int64
	EntryPointCallID int64
	OperatorCallID   int64
	// IsTransferred is set once the call was transferred.
	IsTransferred bool
	Started       time.Time
	Connected     time.Time
	Ended         time.Time
}

// Transfer is one accepted POST /api/v2/call/{id}/transfer.
type Transfer struct {
	CallID        int64
	ToCallID      int64
	ToNumber      string
	ToTargetID    int64
	ToTargetType  string
	TransferState string
	CustomData    string
}

// Calls returns every call, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.callOrder))
	for _, id := range s.callOrder {
		out = append(out, *s.calls[id])
	}
	return out
}

// Call returns the call with this id.
func (s *Server) Call(id int64) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[id]
	if !ok {
		return Call{}, false
	}
	return *c, true
}

// Transfers returns every accepted transfer, oldest first.
func (s *Server) Transfers() []Transfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.transfers)
}

// AddCall stores a call directly (no request, no rate limit), as if it had
// been placed or received, and returns it with its id. A zero Direction is
// "inbound" and a zero State "connected"; the webhooks get its event.
func (s *Server) AddCall(c Call) Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	if c.State == "" {
		c.State = "connected"
	}
	cp := c
	s.addCall(&cp)
	if cp.State == "connected" && cp.Connected.IsZero() {
		cp.Connected = cp.Started
	}
	return cp
}

// SetCallState moves a call to state (ringing, connected, hangup, missed,
// voicemail, hold...) and sends the call event to the webhooks. Reaching
// "connected" sets the connect time, "hangup" the end time.
func (s *Server) SetCallState(id int64, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[id]
	if !ok {
		return fmt.Errorf("dialpadtest: no call %d", id)
	}
	now := s.nowLocked()
	c.State = state
	switch state {
	case "connected":
		c.Connected = now
	case "hangup", "missed", "voicemail":
		c.Ended = now
	}
	s.emit(c)
	// The agent's leg ends with the customer's call.
	if leg := s.calls[c.OperatorCallID]; leg != nil && state == "hangup" && leg.Ended.IsZero() {
		leg.State, leg.Ended = state, now
		s.emit(leg)
	}
	return nil
}

// ConnectOperator has user userID take the inbound call callID the way
// Dialpad connects an agent to a call that came in through a call center,
// department or router: it creates the agent's leg, a call of its own whose
// master_call_id and entry_point_call_id are the customer's call, and marks
// the customer's call connected to that user with the leg in its
// operator_call_id. The webhooks get the leg's "connected" event, then the
// customer call's. Hanging up the customer's call (SetCallState "hangup")
// hangs up the leg too. It returns the leg.
//
// Dialpad's API reference describes these fields in one line each ("Call
// ID of the associated entry point call", "The master id of the specified
// call", "The id of operator"); this is the reading the simulator follows.
func (s *Server) ConnectOperator(callID, userID int64) (Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[callID]
	switch {
	case c == nil:
		return Call{}, fmt.Errorf("dialpadtest: no call %d", callID)
	case !c.Ended.IsZero():
		return Call{}, fmt.Errorf("dialpadtest: call %d has ended (%s)", callID, c.State)
	case s.user(userID) == nil:
		return Call{}, fmt.Errorf("dialpadtest: no user %d", userID)
	}
	now := s.nowLocked()
	leg := &Call{ID: s.newID(), Direction: c.Direction, State: "connected",
		ExternalNumber: c.ExternalNumber, InternalNumber: c.InternalNumber, TargetID: userID, TargetType: "user",
		MasterCallID: c.ID, EntryPointCallID: c.ID, CustomData: c.CustomData, IsTransferred: c.IsTransferred,
		Started: now, Connected: now}
	s.calls[leg.ID] = leg
	s.callOrder = append(s.callOrder, leg.ID)
	s.emit(leg)
	c.State, c.Connected, c.OperatorCallID = "connected", now, leg.ID
	c.TargetID, c.TargetType = userID, "user"
	s.emit(c)
	return *leg, nil
}

// addCall stores c with a new id and sends its first event. Called with s.mu
// held.
func (s *Server) addCall(c *Call) *Call {
	c.ID = s.newID()
	c.Started = s.nowLocked()
	s.calls[c.ID] = c
	s.callOrder = append(s.callOrder, c.ID)
	s.emit(c)
	return c
}

// callEvent renders the call event (CallProto's core). Called with s.mu held.
func (s *Server) callEvent(c *Call) map[string]any {
	ms := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return t.UnixMilli()
	}
	var duration float64
	if !c.Connected.IsZero() {
		end := c.Ended
		if end.IsZero() {
			end = s.nowLocked()
		}
		duration = float64(end.Sub(c.Connected).Milliseconds())
	}
	target := map[string]any{"id": strconv.FormatInt(c.TargetID, 10), "type": c.TargetType}
	if c.TargetType == "user" {
		if u := s.user(c.TargetID); u != nil {
			target["email"] = u.Email
			target["name"] = u.FirstName + " " + u.LastName
			if len(u.PhoneNumbers) > 0 {
				target["phone"] = u.PhoneNumbers[0]
			}
		}
	}
	contact := map[string]any{"phone": c.ExternalNumber, "type": "local"}
	if id, ok := s.contacts[c.ExternalNumber]; ok {
		contact["id"] = strconv.FormatInt(id, 10)
	}
	master := c.MasterCallID
	if master == 0 {
		master = c.ID
	}
	ev := map[string]any{
		"call_id": s.eventID(c.ID), "master_call_id": s.eventID(master), "state": c.State, "direction": c.Direction,
		"is_transferred": c.IsTransferred,
		"date_started":   ms(c.Started), "date_connected": ms(c.Connected), "date_ended": ms(c.Ended),
		"external_number": c.ExternalNumber, "internal_number": c.InternalNumber,
		"target": target, "contact": contact,
		"duration": duration, "event_timestamp": s.nowLocked().UnixMilli(),
	}
	if c.CustomData != "" {
		ev["custom_data"] = c.CustomData
	}
	if c.EntryPointCallID != 0 {
		ev["entry_point_call_id"] = s.eventID(c.EntryPointCallID)
	}
	if c.OperatorCallID != 0 {
		ev["operator_call_id"] = s.eventID(c.OperatorCallID)
	}
	return ev
}

// ringBody is RingCallMessage.
type ringBody struct {
	PhoneNumber      *string      `json:"phone_number"`
	UserID           *jsonx.Int64 `json:"user_id"`
	DeviceID         *string      `json:"device_id"`
	GroupID          *jsonx.Int64 `json:"group_id"`
	GroupType        *string      `json:"group_type"`
	OutboundCallerID *string      `json:"outbound_caller_id"`
	IsConsult        *bool        `json:"is_consult"`
	CustomData       *string      `json:"custom_data"`
}

func (s *Server) initiateCall(w http.ResponseWriter, r *http.Request) {
	var b ringBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if b.PhoneNumber == nil || b.UserID == nil {
		writeError(w, http.StatusBadRequest, "Missing required field(s): phone_number, user_id")
		return
	}
	if telephony.ValidateE164(*b.PhoneNumber) != nil {
		writeError(w, http.StatusBadRequest, "phone_number must be e164-formatted")
		return
	}
	if b.GroupType != nil && !map[string]bool{"callcenter": true, "department": true, "office": true}[*b.GroupType] {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid group_type %q", *b.GroupType))
		return
	}
	if (b.GroupID == nil) != (b.GroupType == nil) {
		writeError(w, http.StatusBadRequest, "group_id and group_type must be provided together")
		return
	}
	if v := b.OutboundCallerID; v != nil && *v != "blocked" && telephony.ValidateE164(*v) != nil {
		writeError(w, http.StatusBadRequest, "outbound_caller_id must be e164-formatted or \"blocked\"")
		return
	}
	uid := int64(*b.UserID)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(uid)
	if u == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("User %d not found", uid))
		return
	}
	if !s.allowKeyed(s.userLim, uid, s.limits.CallsPerUserPerMinute, time.Minute) {
		s.uni.throttled++
		ra := s.limits.RetryAfter
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		writeError(w, http.StatusTooManyRequests, "Rate limit exceeded: call initiation allows 5 per minute per user")
		return
	}
	c := &Call{Direction: "outbound", State: "calling", UserID: uid, PhoneNumber: *b.PhoneNumber,
		ExternalNumber: *b.PhoneNumber, TargetID: uid, TargetType: "user"}
	if len(u.PhoneNumbers) > 0 {
		c.InternalNumber = u.PhoneNumbers[0]
	}
	if v := b.OutboundCallerID; v != nil {
		c.OutboundCallerID = *v
		if *v != "blocked" {
			c.InternalNumber = *v
		}
	}
	if b.DeviceID != nil {
		c.DeviceID = *b.DeviceID
	}
	if b.GroupID != nil {
		c.GroupID, c.GroupType = int64(*b.GroupID), *b.GroupType
	}
	if b.IsConsult != nil {
		c.IsConsult = *b.IsConsult
	}
	if b.CustomData != nil {
		c.CustomData = *b.CustomData
	}
	s.addCall(c)
	writeJSON(w, http.StatusOK, map[string]any{"call_id": s.id(c.ID)})
}

// transferBody is TransferCallMessage; "to" is one of three shapes.
type transferBody struct {
	To *struct {
		CallID     *jsonx.Int64 `json:"call_id"`
		Number     *string      `json:"number"`
		TargetID   *jsonx.Int64 `json:"target_id"`
		TargetType *string      `json:"target_type"`
	} `json:"to"`
	TransferState *string `json:"transfer_state"`
	CustomData    *string `json:"custom_data"`
}

func (s *Server) transferCall(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	var b transferBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if b.To == nil {
		writeError(w, http.StatusBadRequest, "Missing required field: to")
		return
	}
	to := b.To
	n := 0
	for _, set := range []bool{to.CallID != nil, to.Number != nil, to.TargetID != nil || to.TargetType != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		writeError(w, http.StatusBadRequest, "to must contain exactly one of call_id, number, or target_id with target_type")
		return
	}
	t := Transfer{CallID: id}
	switch {
	case to.CallID != nil:
		t.ToCallID = int64(*to.CallID)
	case to.Number != nil:
		if telephony.ValidateE164(*to.Number) != nil {
			writeError(w, http.StatusBadRequest, "to.number must be e164-formatted")
			return
		}
		t.ToNumber = *to.Number
	default:
		if to.TargetID == nil || to.TargetType == nil {
			writeError(w, http.StatusBadRequest, "to.target_id and to.target_type must be provided together")
			return
		}
		if !map[string]bool{"callcenter": true, "department": true, "office": true, "user": true}[*to.TargetType] {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid to.target_type %q", *to.TargetType))
			return
		}
		t.ToTargetID, t.ToTargetType = int64(*to.TargetID), *to.TargetType
	}
	if v := b.TransferState; v != nil {
		if !map[string]bool{"hold": true, "parked": true, "preanswer": true, "voicemail": true}[*v] {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid transfer_state %q", *v))
			return
		}
		t.TransferState = *v
	}
	if b.CustomData != nil {
		t.CustomData = *b.CustomData
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[id]
	if !ok || c == nil {
		writeError(w, http.StatusNotFound, "Call not found")
		return
	}
	if !c.Ended.IsZero() {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Call %d is not active (state %s)", id, c.State))
		return
	}
	switch {
	case t.ToCallID != 0 && s.calls[t.ToCallID] == nil:
		writeError(w, http.StatusNotFound, fmt.Sprintf("Call %d not found", t.ToCallID))
		return
	case t.ToTargetType == "user" && s.user(t.ToTargetID) == nil:
		writeError(w, http.StatusNotFound, fmt.Sprintf("User %d not found", t.ToTargetID))
		return
	}
	s.transfers = append(s.transfers, t)
	c.IsTransferred = true
	if t.ToTargetID != 0 {
		c.TargetID, c.TargetType = t.ToTargetID, t.ToTargetType
	}
	state := t.TransferState
	if state == "" {
		state = "preanswer"
	}
	writeJSON(w, http.StatusOK, map[string]any{"call_id": s.id(id), "transferred_to_number": t.ToNumber, "transferred_to_state": state})
}
