package aircall

import (
	"context"
	"iter"
	"net/http"
	"strconv"

	"github.com/switchboard-go/switchboard/telephony"
)

// SearchCallsOptions narrows Calls.Search. Zero fields do not filter.
//
// The parameter names (phone_number, user_id, from, to, order) are those of
// Aircall's "Search calls" reference as community clients send them;
// direction is documented there too but no client we read sends it.
type SearchCallsOptions struct {
	// ListOptions pages the search and bounds it in time (From, To: the
	// call's start, as Unix seconds) and sets its Order.
	ListOptions
	// PhoneNumber keeps calls with this external number, in E.164.
	PhoneNumber string
	// Direction keeps "inbound" or "outbound" calls.
	Direction string
	// UserID keeps calls of this user (agent).
	UserID int64
}

type callsPage struct {
	Calls []Call `json:"calls"`
	Meta  Meta   `json:"meta"`
}

func (p *callsPage) records() []Call { return p.Calls }
func (p *callsPage) meta() Meta      { return p.Meta }

// List iterates over the company's calls, fetching pages as the loop
// advances (Aircall's default order is oldest first; set Order "desc" for
// newest first). Like every Aircall listing it stops at MaxListRecords:
// split larger histories with From and To.
//
// API: GET /v1/calls
func (s *CallsService) List(ctx context.Context, opts *ListOptions) iter.Seq2[Call, error] {
	return list[Call, callsPage](ctx, s.c, "/v1/calls", opts)
}

// Search iterates over the calls matching opts: a customer's number, a
// direction, a user, a time range. An invalid option (a number not in
// E.164, a direction other than "inbound" or "outbound") yields an error
// matching telephony.ErrInvalidRequest and sends nothing.
//
// API: GET /v1/calls/search
func (s *CallsService) Search(ctx context.Context, opts SearchCallsOptions) iter.Seq2[Call, error] {
	const route = "/v1/calls/search"
	o := op(http.MethodGet, route)
	fail := func(err error) iter.Seq2[Call, error] {
		return func(yield func(Call, error) bool) { yield(Call{}, err) }
	}
	q, err := opts.ListOptions.query(o)
	if err != nil {
		return fail(err)
	}
	if opts.PhoneNumber != "" {
		if err := telephony.ValidateE164(opts.PhoneNumber); err != nil {
			return fail(telephony.InvalidArgument(telephony.ProviderAircall, o, "PhoneNumber: %v", err))
		}
		q.Set("phone_number", opts.PhoneNumber)
	}
	switch opts.Direction {
	case "":
	case "inbound", "outbound":
		q.Set("direction", opts.Direction)
	default:
		return fail(telephony.InvalidArgument(telephony.ProviderAircall, o, "Direction %q must be \"inbound\" or \"outbound\"", opts.Direction))
	}
	if opts.UserID < 0 {
		return fail(telephony.InvalidArgument(telephony.ProviderAircall, o, "UserID %d must be positive", opts.UserID))
	}
	if opts.UserID > 0 {
		q.Set("user_id", strconv.FormatInt(opts.UserID, 10))
	}
	return listQuery[Call, callsPage](ctx, s.c, route, q, opts.ListOptions.skipped())
}

// Record returns the call as a portable call record.
func (c *Call) Record() telephony.CallRecord {
	r := telephony.CallRecord{
		ID: strconv.FormatInt(c.ID, 10), Provider: telephony.ProviderAircall,
		Direction: direction(c.Direction), Status: eventStatus("", c),
		StartedAt: unixTime(c.StartedAt), AnsweredAt: unixTime(c.AnsweredAt), EndedAt: unixTime(c.EndedAt),
		Duration: seconds(c.Duration),
	}
	ours, theirs := "", telephony.NormalizeNumber(c.RawDigits)
	if c.Number != nil {
		ours = c.Number.E164()
	}
	r.From, r.To = theirs, ours
	if r.Direction == telephony.DirectionOutbound {
		r.From, r.To = ours, theirs
	}
	if c.User != nil && c.User.ID > 0 {
		r.AgentID, r.AgentEmail = strconv.FormatInt(c.User.ID, 10), c.User.Email
	}
	return r
}

// CallFilters: Aircall's search filters by number, direction and user, and
// both listings by time.
func (driver) CallFilters() telephony.CallFilters {
	return telephony.CallFilters{Number: true, Direction: true, AgentID: true, TimeRange: true}
}

// Calls lists the history newest first: GET /v1/calls/search when the
// query names a number, a direction or an agent, GET /v1/calls otherwise.
func (d driver) Calls(ctx context.Context, q telephony.CallQuery) iter.Seq2[telephony.CallRecord, error] {
	lo := ListOptions{From: q.Since, Order: "desc"}
	if !q.Until.IsZero() {
		lo.To = q.Until.Add(-1) // Aircall's to is inclusive, in seconds
	}
	var seq iter.Seq2[Call, error]
	if q.Number == "" && q.Direction == telephony.DirectionUnknown && q.AgentID == "" {
		seq = d.c.Calls.List(ctx, &lo)
	} else {
		so := SearchCallsOptions{ListOptions: lo, PhoneNumber: q.Number, Direction: string(q.Direction)}
		if q.AgentID != "" {
			id, err := parseID(q.AgentID)
			if err != nil {
				return func(yield func(telephony.CallRecord, error) bool) {
					yield(telephony.CallRecord{}, telephony.InvalidArgument(telephony.ProviderAircall, "Calls", "AgentID must be an Aircall user id: %v", err))
				}
			}
			so.UserID = id
		}
		seq = d.c.Calls.Search(ctx, so)
	}
	return func(yield func(telephony.CallRecord, error) bool) {
		for c, err := range seq {
			if err != nil {
				yield(telephony.CallRecord{}, err)
				return
			}
			if !yield(c.Record(), nil) {
				return
			}
		}
	}
}

var _ telephony.CallHistory = driver{}
