package aircall

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// Event is one Aircall webhook delivery: {resource, event, timestamp, token,
// data}. Aircall signs nothing; the only proof of origin is Token, the
// webhook's token, which ParseEvent checks.
type Event struct {
	Resource  string          `json:"resource"` // "call", "user", "number", ...
	Event     string          `json:"event"`    // "call.created", ...
	Timestamp int64           `json:"-"`        // Unix seconds
	Token     string          `json:"token"`
	Data      json.RawMessage `json:"data"` // the REST object of the resource
}

// ParseEvent checks body's token against the webhook's token in constant
// time and decodes the envelope. A wrong or missing token returns an error
// matching telephony.ErrInvalidSignature; a body that is not an Aircall
// envelope, one matching telephony.ErrInvalidRequest.
func ParseEvent(body []byte, token string) (*Event, error) {
	if token == "" {
		return nil, errors.New("aircall: ParseEvent needs the webhook token")
	}
	var raw struct {
		Event
		Timestamp jsonx.Int64 `json:"timestamp"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: telephony.ProviderAircall, Op: "webhook",
			Message: "the body is not an Aircall webhook envelope: " + err.Error()}
	}
	if !webhook.EqualSecret(raw.Token, token) {
		return nil, &telephony.Error{Kind: telephony.ErrInvalidSignature, Provider: telephony.ProviderAircall, Op: "webhook",
			Message: "the body's token does not match the webhook token"}
	}
	ev := raw.Event
	ev.Timestamp = int64(raw.Timestamp)
	if ev.Event == "" {
		return nil, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: telephony.ProviderAircall, Op: "webhook",
			Message: "the envelope has no event name"}
	}
	return &ev, nil
}

// genuine reports whether body, which ParseEvent could not decode, still
// is a JSON object carrying the webhook's token (compared in constant
// time): a delivery from Aircall that is not what this package expects, to
// be acknowledged rather than refused. Broken JSON cannot be verified.
func genuine(body []byte, token string) bool {
	var t struct {
		Token json.RawMessage `json:"token"`
	}
	if json.Unmarshal(body, &t) != nil {
		return false
	}
	var s string
	if json.Unmarshal(t.Token, &s) != nil {
		return false
	}
	return webhook.EqualSecret(s, token)
}

// rawEvent is CallEvent.Raw of an Aircall event: the envelope without its
// token ({"resource","event","timestamp","data"}), so that the secret is
// never stored with the event.
func rawEvent(e *Event) json.RawMessage {
	b, err := json.Marshal(struct {
		Resource  string          `json:"resource,omitempty"`
		Event     string          `json:"event"`
		Timestamp int64           `json:"timestamp,omitempty"`
		Data      json.RawMessage `json:"data,omitempty"`
	}{e.Resource, e.Event, e.Timestamp, e.Data})
	if err != nil {
		return nil
	}
	return b
}

// IsCall reports whether the event is about a call.
func (e *Event) IsCall() bool {
	return e.Resource == "call" || (e.Resource == "" && strings.HasPrefix(e.Event, "call."))
}

// Time returns Timestamp as a time (zero when unset).
func (e *Event) Time() time.Time { return unixTime(e.Timestamp) }

// Call decodes Data as a call. It fails for events about other resources
// and for a call without an id.
func (e *Event) Call() (*Call, error) {
	if !e.IsCall() {
		return nil, fmt.Errorf("aircall: %s is not a call event", e.Event)
	}
	var c Call
	if err := json.Unmarshal(e.Data, &c); err != nil {
		return nil, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: telephony.ProviderAircall, Op: "webhook",
			Message: "the call in " + e.Event + " cannot be decoded: " + err.Error()}
	}
	if c.ID <= 0 {
		return nil, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: telephony.ProviderAircall, Op: "webhook",
			Message: e.Event + " has no call id"}
	}
	return &c, nil
}

// CallEvent converts the event, with its call c (from Call), to the
// portable form. From and To are the caller and the callee whatever the
// direction, in E.164 when Aircall's formatting allows it.
func (e *Event) CallEvent(c *Call) telephony.CallEvent {
	ev := telephony.CallEvent{
		Provider: telephony.ProviderAircall, CallID: strconv.FormatInt(c.ID, 10), Type: e.Event,
		Status: eventStatus(e.Event, c), Direction: direction(c.Direction),
		Duration: seconds(c.Duration), Time: e.Time(),
	}
	ours, theirs := "", telephony.NormalizeNumber(c.RawDigits)
	if c.Number != nil {
		ours = telephony.NormalizeNumber(c.Number.Digits)
	}
	ev.From, ev.To = theirs, ours
	if ev.Direction == telephony.DirectionOutbound {
		ev.From, ev.To = ours, theirs
	}
	if c.User != nil && c.User.ID > 0 {
		ev.AgentID = strconv.FormatInt(c.User.ID, 10)
	}
	return ev
}

// seconds converts a duration in seconds. One that is not positive, or too
// large for time.Duration (whose nanoseconds would wrap to a negative
// value), is unknown: 0.
func seconds(s int64) time.Duration {
	if s <= 0 || s >= math.MaxInt64/int64(time.Second) {
		return 0
	}
	return time.Duration(s) * time.Second
}

// inboundCall builds what a RouteFunc receives from a call.created event.
func inboundCall(e *Event, c *Call) telephony.InboundCall {
	in := telephony.InboundCall{Provider: telephony.ProviderAircall, CallID: strconv.FormatInt(c.ID, 10),
		From: telephony.NormalizeNumber(c.RawDigits), StartedAt: c.Started()}
	if c.Number != nil {
		in.To = telephony.NormalizeNumber(c.Number.Digits)
	}
	if in.StartedAt.IsZero() {
		in.StartedAt = e.Time()
	}
	return in
}

func direction(d string) telephony.Direction {
	switch d {
	case "inbound":
		return telephony.DirectionInbound
	case "outbound":
		return telephony.DirectionOutbound
	}
	return telephony.DirectionUnknown
}

// eventStatus maps an Aircall call event to a portable status. Events that
// do not change the call's state (tags, comments...) report the state the
// call's own status implies.
func eventStatus(event string, c *Call) telephony.CallStatus {
	switch event {
	case "call.created":
		if c.Direction == "outbound" {
			return telephony.StatusInitiated
		}
		return telephony.StatusRinging
	case "call.ringing_on_agent", "call.agent_declined":
		return telephony.StatusRinging
	case "call.answered", "call.unhold", "call.unsuccessful_transfer":
		return telephony.StatusInProgress
	case "call.hold":
		return telephony.StatusOnHold
	case "call.transferred", "call.external_transferred":
		return telephony.StatusTransferred
	case "call.voicemail_left":
		return telephony.StatusVoicemail
	case "call.hungup", "call.ended":
		return endStatus(c)
	}
	switch c.Status {
	case CallStatusInitial:
		return telephony.StatusRinging
	case CallStatusAnswered:
		return telephony.StatusInProgress
	case CallStatusDone:
		return endStatus(c)
	}
	return telephony.StatusUnknown
}

// endStatus is the final status of an ended call: completed when someone
// answered, otherwise missed (inbound) or no-answer (outbound).
func endStatus(c *Call) telephony.CallStatus {
	switch {
	case c.AnsweredAt > 0 && c.MissedCallReason == "":
		return telephony.StatusCompleted
	case c.Direction == "outbound":
		return telephony.StatusNoAnswer
	}
	return telephony.StatusMissed
}
