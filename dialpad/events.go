package dialpad

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/telephony"
)

// CallEvent is a Dialpad call event as a webhook delivers it: the fields of
// the API's CallProto that follow a call, including those that join an
// agent's leg to the customer's call, which the portable
// telephony.CallEvent has no room for. A WebhookHandler puts it in the
// context of the EventFunc (CallEventFromContext); it also decodes with
// encoding/json from an event's JSON (the claims of its JWT). Ids arrive as
// JSON numbers or numeric strings; both decode.
//
// How Dialpad fills the leg fields is described only by the API
// reference's one-line descriptions, quoted below; what the simulator sends
// follows them (see dialpadtest.Server.ConnectOperator).
type CallEvent struct {
	// CallID is this call's (this leg's) id.
	CallID int64
	// MasterCallID is "the master id of the specified call": the call
	// this leg belongs to (its own id for a call with one leg).
	MasterCallID int64
	// EntryPointCallID is the "call ID of the associated entry point
	// call": on an agent's leg of an inbound call to a call center,
	// department or office, the customer's call.
	EntryPointCallID int64
	// OperatorCallID is "the id of operator": on the customer's call, the
	// leg of the agent (operator) who took it.
	OperatorCallID int64
	// State is the call state (calling, ringing, connected, hangup, ...).
	State string
	// Direction is "inbound" or "outbound".
	Direction string
	// ExternalNumber is the customer's number, InternalNumber the Dialpad
	// number, both as Dialpad wrote them.
	ExternalNumber string
	InternalNumber string
	// Contact is the contact involved in the call; Target who has the call
	// (a user, call center, ...); EntryPointTarget where an inbound call
	// first arrived. Nil when absent.
	Contact          *CallContact
	Target           *CallContact
	EntryPointTarget *CallContact
	// CustomData is what was passed as custom_data when the call was
	// placed or transferred.
	CustomData string
	// IsTransferred reports that the call was transferred.
	IsTransferred bool
	// GroupID is the department, main line or call queue of the call.
	GroupID string
	// DateStarted, DateConnected and DateEnded are the call's times and
	// EventTimestamp the event's; zero when absent.
	DateStarted, DateConnected, DateEnded, EventTimestamp time.Time
	// Duration is how long the call was connected (0 when unknown).
	Duration time.Duration
}

// CallContact is a party of a call event (the API's CallContactProto).
type CallContact struct {
	ID, Name, Phone, Email, Type string
}

// IsOperatorLeg reports that the event is about an agent's leg of another
// (entry point) call rather than about the customer's call itself.
func (e *CallEvent) IsOperatorLeg() bool {
	return e.EntryPointCallID > 0 && e.EntryPointCallID != e.CallID
}

type wireContact struct {
	ID    jsonx.String `json:"id"`
	Name  jsonx.String `json:"name"`
	Phone jsonx.String `json:"phone"`
	Email jsonx.String `json:"email"`
	Type  jsonx.String `json:"type"`
}

func (w *wireContact) contact() *CallContact {
	if w == nil {
		return nil
	}
	return &CallContact{ID: string(w.ID), Name: string(w.Name), Phone: string(w.Phone), Email: string(w.Email), Type: string(w.Type)}
}

// wireCallEvent is what a CallEvent needs to exist: an event whose fields
// here do not decode is refused.
type wireCallEvent struct {
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
	Target         *wireContact `json:"target"`
}

// wireCallEventExtra holds the fields read on a best-effort basis: when one
// of them has an unexpected shape they are all left empty, and the event is
// still delivered.
type wireCallEventExtra struct {
	MasterCallID     jsonx.Int64  `json:"master_call_id"`
	EntryPointCallID jsonx.Int64  `json:"entry_point_call_id"`
	OperatorCallID   jsonx.Int64  `json:"operator_call_id"`
	Contact          *wireContact `json:"contact"`
	EntryPointTarget *wireContact `json:"entry_point_target"`
	CustomData       jsonx.String `json:"custom_data"`
	IsTransferred    jsonx.Bool   `json:"is_transferred"`
	GroupID          jsonx.String `json:"group_id"`
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *CallEvent) UnmarshalJSON(b []byte) error {
	var w wireCallEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var x wireCallEventExtra
	if json.Unmarshal(b, &x) != nil {
		x = wireCallEventExtra{}
	}
	ms := func(v jsonx.Int64) time.Time {
		if v <= 0 {
			return time.Time{}
		}
		return time.UnixMilli(int64(v)).UTC()
	}
	*e = CallEvent{
		CallID: int64(w.CallID), MasterCallID: int64(x.MasterCallID),
		EntryPointCallID: int64(x.EntryPointCallID), OperatorCallID: int64(x.OperatorCallID),
		State: string(w.State), Direction: string(w.Direction),
		ExternalNumber: string(w.ExternalNumber), InternalNumber: string(w.InternalNumber),
		Contact: x.Contact.contact(), Target: w.Target.contact(), EntryPointTarget: x.EntryPointTarget.contact(),
		CustomData: string(x.CustomData), IsTransferred: bool(x.IsTransferred), GroupID: string(x.GroupID),
		DateStarted: ms(w.DateStarted), DateConnected: ms(w.DateConnected), DateEnded: ms(w.DateEnded),
		EventTimestamp: ms(w.EventTimestamp),
	}
	// The bound keeps ms*1e6 ns within int64: a larger (bogus) duration
	// would wrap to a negative one, so it is reported as unknown (0).
	if d, err := w.Duration.Float64(); err == nil && d > 0 && d < float64(math.MaxInt64/int64(time.Millisecond)) {
		e.Duration = time.Duration(d * float64(time.Millisecond))
	}
	return nil
}

// portable maps the event to a telephony.CallEvent (DeliveryID unset).
func (e *CallEvent) portable() telephony.CallEvent {
	state := strings.ToLower(strings.TrimSpace(e.State))
	ev := telephony.CallEvent{
		Provider: telephony.ProviderDialpad,
		CallID:   strconv.FormatInt(e.CallID, 10),
		Type:     state,
		Status:   whStatus(state),
		Duration: e.Duration,
	}
	switch strings.ToLower(e.Direction) {
	case "inbound":
		ev.Direction, ev.From, ev.To = telephony.DirectionInbound, e.ExternalNumber, e.InternalNumber
	case "outbound":
		ev.Direction, ev.From, ev.To = telephony.DirectionOutbound, e.InternalNumber, e.ExternalNumber
	default:
		ev.From, ev.To = e.ExternalNumber, e.InternalNumber
	}
	ev.From, ev.To = telephony.NormalizeNumber(ev.From), telephony.NormalizeNumber(ev.To)
	if e.Target != nil && strings.EqualFold(e.Target.Type, "user") {
		ev.AgentID = e.Target.ID
	}
	for _, t := range []time.Time{e.EventTimestamp, e.DateEnded, e.DateConnected, e.DateStarted} {
		if !t.IsZero() {
			ev.Time = t
			break
		}
	}
	return ev
}

type callEventKey struct{}

// CallEventFromContext returns the Dialpad call event behind the
// telephony.CallEvent a WebhookHandler passes to its EventFunc, with the
// fields the portable event lacks (the leg ids, contact, custom data,
// is_transferred). It reports false for any other context.
func CallEventFromContext(ctx context.Context) (*CallEvent, bool) {
	e, ok := ctx.Value(callEventKey{}).(*CallEvent)
	return e, ok
}
