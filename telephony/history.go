package telephony

import (
	"context"
	"iter"
	"time"
)

// CallQuery narrows Client.Calls. The zero value lists every call the
// provider keeps, newest first.
type CallQuery struct {
	// Number keeps calls with this customer number (E.164): the caller of
	// an inbound call, the callee of an outbound one. Providers that cannot
	// search by number (Dialpad) refuse it with ErrUnsupported rather than
	// read the whole history.
	Number string
	// Direction keeps inbound or outbound calls; DirectionUnknown keeps
	// both.
	Direction Direction
	// AgentID keeps calls taken or placed by this agent (the provider's
	// user id).
	AgentID string
	// Since and Until keep calls that started in [Since, Until); zero
	// leaves that end open.
	Since, Until time.Time
}

// CallFilters says which CallQuery fields a provider applies itself.
// Direction and AgentID are filtered by the portable layer when the
// provider does not (the walk then reads more pages, within Since and
// Until); Number is never filtered client-side: it is refused with
// ErrUnsupported.
type CallFilters struct {
	Number    bool // CallQuery.Number
	Direction bool // CallQuery.Direction
	AgentID   bool // CallQuery.AgentID
	TimeRange bool // CallQuery.Since and Until
}

// CallRecord is one call of a provider's call history.
type CallRecord struct {
	// ID is the provider's call id; Provider names the provider.
	ID       string
	Provider string
	// Direction is inbound or outbound, from the account's side.
	Direction Direction
	// From and To are E.164 where the provider gives a phone number
	// (NormalizeNumber): for an inbound call From is the customer, for an
	// outbound call To is.
	From string
	To   string
	// AgentID is the provider's id of the agent who took or placed the
	// call ("" when nobody answered); AgentEmail is set where the provider
	// gives it.
	AgentID    string
	AgentEmail string
	// Status is the call's portable status (completed, missed, ...).
	Status CallStatus
	// StartedAt, AnsweredAt and EndedAt are zero when unknown (AnsweredAt
	// stays zero for a call nobody answered).
	StartedAt  time.Time
	AnsweredAt time.Time
	EndedAt    time.Time
	// Duration is how long the call lasted as the provider reports it.
	Duration time.Duration
}

// Customer returns the customer's number: From for an inbound call, To
// otherwise.
func (r CallRecord) Customer() string {
	if r.Direction == DirectionInbound {
		return r.From
	}
	return r.To
}

// Answered reports whether an agent took the call.
func (r CallRecord) Answered() bool {
	if r.AgentID == "" && r.AgentEmail == "" {
		return false
	}
	switch r.Status {
	case StatusMissed, StatusNoAnswer, StatusBusy, StatusFailed, StatusVoicemail:
		return false
	}
	return !r.AnsweredAt.IsZero() || r.Status == StatusCompleted || r.Status == StatusInProgress
}

// CallHistory is the optional driver interface behind Client.Calls. The
// query is already validated; Calls must apply the filters CallFilters
// reports, and yield calls newest first when the provider sorts so.
type CallHistory interface {
	CallFilters() CallFilters
	Calls(ctx context.Context, q CallQuery) iter.Seq2[CallRecord, error]
}

// CallFilters reports which CallQuery fields the provider applies itself;
// all false when the provider has no call history API.
func (c *Client) CallFilters() CallFilters {
	if h, ok := c.d.(CallHistory); ok {
		return h.CallFilters()
	}
	return CallFilters{}
}

// Calls iterates over the account's call history, newest first, fetching
// pages as the loop advances; breaking out of the loop stops fetching, and
// an error is yielded once and ends the sequence.
//
// Every provider applies the time range itself. Number needs a provider
// that searches by number (Aircall, JustCall): on Dialpad it yields an
// error matching ErrUnsupported and sends nothing. Direction and AgentID
// are applied by the provider where it can and filtered here otherwise
// (Dialpad's direction), which reads more pages: bound such walks with
// Since. An invalid query (Number not E.164, Until before Since, an
// unknown Direction) yields ErrInvalidRequest and sends nothing.
func (c *Client) Calls(ctx context.Context, q CallQuery) iter.Seq2[CallRecord, error] {
	const op = "Calls"
	fail := func(err error) iter.Seq2[CallRecord, error] {
		return func(yield func(CallRecord, error) bool) { yield(CallRecord{}, err) }
	}
	h, ok := c.d.(CallHistory)
	if !ok {
		return fail(Unsupported(c.Provider(), op))
	}
	if q.Number != "" {
		if err := ValidateE164(q.Number); err != nil {
			return fail(invalid(c.Provider(), op, "Number: %v", err))
		}
	}
	switch q.Direction {
	case DirectionUnknown, DirectionInbound, DirectionOutbound:
	default:
		return fail(invalid(c.Provider(), op, "Direction %q must be %q, %q or empty", q.Direction, DirectionInbound, DirectionOutbound))
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return fail(invalid(c.Provider(), op, "Until (%v) must be after Since (%v)", q.Until, q.Since))
	}
	f := h.CallFilters()
	if q.Number != "" && !f.Number {
		return fail(&Error{Kind: ErrUnsupported, Provider: c.Provider(), Op: op,
			Message: c.Provider() + "'s call history cannot be searched by number; leave CallQuery.Number empty and compare CallRecord.Customer()"})
	}
	local := q
	if f.Direction {
		local.Direction = DirectionUnknown
	}
	if f.AgentID {
		local.AgentID = ""
	}
	if f.TimeRange {
		local.Since, local.Until = time.Time{}, time.Time{}
	}
	seq := h.Calls(ctx, q)
	if local.Direction == DirectionUnknown && local.AgentID == "" && local.Since.IsZero() && local.Until.IsZero() {
		return seq
	}
	return func(yield func(CallRecord, error) bool) {
		for r, err := range seq {
			if err != nil {
				yield(CallRecord{}, err)
				return
			}
			if local.Direction != DirectionUnknown && r.Direction != local.Direction ||
				local.AgentID != "" && r.AgentID != local.AgentID ||
				!local.Since.IsZero() && r.StartedAt.Before(local.Since) ||
				!local.Until.IsZero() && !r.StartedAt.Before(local.Until) {
				continue
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}
