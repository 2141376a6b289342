package telephony

import (
	"context"
	"encoding/json"
	"time"
)

// Provider names, as returned by Client.Provider and stored in Call.Provider,
// InboundCall.Provider and CallEvent.Provider.
const (
	ProviderJustCall = "justcall"
	ProviderDialpad  = "dialpad"
	ProviderAircall  = "aircall"
)

// Direction is the direction of a call as seen from the provider account.
type Direction string

// Directions.
const (
	DirectionUnknown  Direction = ""
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
)

// CallStatus is the portable state of a call. The first six are the statuses
// JustCall's click-to-call callbacks report; the others cover states the
// other providers report.
type CallStatus string

// Call statuses.
const (
	StatusUnknown     CallStatus = ""
	StatusRinging     CallStatus = "ringing"
	StatusInProgress  CallStatus = "in-progress"
	StatusCompleted   CallStatus = "completed"
	StatusNoAnswer    CallStatus = "no-answer"
	StatusBusy        CallStatus = "busy"
	StatusFailed      CallStatus = "failed"
	StatusInitiated   CallStatus = "initiated"
	StatusQueued      CallStatus = "queued"
	StatusOnHold      CallStatus = "on-hold"
	StatusTransferred CallStatus = "transferred"
	StatusVoicemail   CallStatus = "voicemail"
	StatusMissed      CallStatus = "missed"
)

// Final reports whether s is a status after which the call does not change
// state any more.
func (s CallStatus) Final() bool {
	switch s {
	case StatusCompleted, StatusNoAnswer, StatusBusy, StatusFailed, StatusMissed, StatusVoicemail:
		return true
	}
	return false
}

// CallRequest asks a provider to ring an agent and then connect a customer
// (click-to-call).
type CallRequest struct {
	// From is the provider number to call from, in E.164. JustCall requires
	// it; Aircall resolves it to one of the agent's numbers; Dialpad uses it
	// as the outbound caller id when set.
	From string
	// To is the customer's number in E.164. Required.
	To string
	// AgentID is the provider's id of the agent whose devices ring first.
	// Dialpad and Aircall require it; JustCall defaults to the number owner.
	AgentID string
	// CallbackURL receives status updates where the provider supports it
	// (JustCall's callback_url).
	CallbackURL string
}

// Call is a call placed or looked up through a provider.
type Call struct {
	ID        string
	Provider  string
	From      string
	To        string
	AgentID   string
	Direction Direction
	Status    CallStatus
}

// User is an agent of a provider account.
type User struct {
	ID    string
	Email string
	Name  string
	// Available is the provider's own notion of availability: JustCall's
	// working-hours availability, Dialpad's "not on a call", Aircall's
	// available flag.
	Available bool
}

// TargetType says what kind of thing a Target names.
type TargetType string

// Target types. Not every provider supports every type: Dialpad routes to
// users, departments, call centers and offices; Aircall transfers to users,
// teams and external numbers.
const (
	TargetUser       TargetType = "user"
	TargetDepartment TargetType = "department"
	TargetCallCenter TargetType = "callcenter"
	TargetOffice     TargetType = "office"
	TargetTeam       TargetType = "team"
	TargetNumber     TargetType = "number"
)

// Target is where a call is routed or transferred to. A user may be named by
// ID or by Email (the provider resolves an email through its cached user
// directory); a number target carries the E.164 number in ID.
type Target struct {
	Type  TargetType
	ID    string
	Email string
}

// IsZero reports whether t names nothing.
func (t Target) IsZero() bool { return t == Target{} }

// UserTarget returns a Target naming a user by provider id.
func UserTarget(id string) Target { return Target{Type: TargetUser, ID: id} }

// UserByEmail returns a Target naming a user by email address.
func UserByEmail(email string) Target { return Target{Type: TargetUser, Email: email} }

// NumberTarget returns a Target naming an external phone number (E.164).
func NumberTarget(e164 string) Target { return Target{Type: TargetNumber, ID: e164} }

// InboundCall is what a routing function knows about a call that is arriving.
type InboundCall struct {
	Provider    string
	CallID      string
	From        string // the caller, E.164 where the provider gives it
	To          string // the number the caller dialled
	ContactID   string
	ContactType string
	StartedAt   time.Time
}

// CallEvent is a change in a call's state reported by a provider.
type CallEvent struct {
	Provider  string
	CallID    string
	Type      string // the provider's event name, e.g. "call.answered"
	Status    CallStatus
	Direction Direction
	From      string
	To        string
	AgentID   string
	Duration  time.Duration
	Time      time.Time
	// DeliveryID is the provider's id for this delivery when it has one
	// (JustCall's request_id); handlers deduplicate on it.
	DeliveryID string
	// Raw is the provider's own event, as verified (the JWT's payload for
	// Dialpad, the body for Aircall and JustCall): what the portable fields
	// leave out — recording URLs, dispositions, notes, custom data — is
	// there. Each provider package has a type to decode it into.
	Raw json.RawMessage `json:",omitempty"`
}

// RouteFunc decides where an inbound call goes. It is called by the
// provider's routing handler; returning an error (or taking too long) makes
// the handler use its configured fallback target.
type RouteFunc func(ctx context.Context, call InboundCall) (Target, error)

// EventFunc receives call events from a provider's webhook handler.
type EventFunc func(ctx context.Context, ev CallEvent) error

// Capabilities says which portable operations a client supports.
type Capabilities struct {
	Dial           bool // Client.Dial places calls
	Users          bool // Client.Users lists agents
	Transfer       bool // Client.Transfer moves a live call
	InboundRouting bool // the provider package can route inbound calls
	CallEvents     bool // the provider package can receive call events
	CallRouters    bool // the provider manages call routers (Dialpad)
	// Unverified, when not empty, names the capabilities above that rest
	// on an endpoint missing from the provider's official reference, and
	// says what to check: they work against the simulator but may fail on
	// a live account. JustCall's Dial is one (POST /v2/calls/make).
	Unverified string
}
