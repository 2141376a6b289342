package dialpad

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/internal/paginate"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// CallGetsPerMinute is Dialpad's limit on GET /api/v2/call/{id} ("Rate
// limit: 10 per minute"). The client enforces it for the account, shared by
// every replica when the client's state is.
const CallGetsPerMinute = 10

var callTargetTypes = map[string]bool{
	"callcenter": true, "callrouter": true, "channel": true, "coachinggroup": true, "coachingteam": true,
	"department": true, "office": true, "room": true, "staffgroup": true, "unknown": true, "user": true,
}

// ListCallsOptions filters Calls.List. Zero fields do not filter.
type ListCallsOptions struct {
	// StartedAfter and StartedBefore keep calls that started in between
	// (started_after, started_before: milliseconds since the epoch).
	StartedAfter, StartedBefore time.Time
	// TargetID and TargetType keep the calls of one target, such as a user
	// ("user") or a call center; set both or neither.
	TargetID   int64
	TargetType string
}

type callsPage struct {
	Cursor string            `json:"cursor"`
	Items  []json.RawMessage `json:"items"`
}

// List iterates over the company's concluded calls, newest first (Dialpad
// lists only calls that have ended), fetching pages as the loop advances.
// Dialpad cannot filter by the customer's number or by direction: compare
// ExternalNumber and Direction. It needs a company admin API key with the
// calls:list scope; a key without it gets an error matching
// telephony.ErrUnauthorized. An item that does not decode is skipped.
//
// API: GET /api/v2/call
func (s *CallsService) List(ctx context.Context, opts *ListCallsOptions) iter.Seq2[CallEvent, error] {
	const op = "GET /api/v2/call"
	var o ListCallsOptions
	if opts != nil {
		o = *opts
	}
	fail := func(err error) iter.Seq2[CallEvent, error] {
		return func(yield func(CallEvent, error) bool) { yield(CallEvent{}, err) }
	}
	base := url.Values{}
	if !o.StartedAfter.IsZero() {
		base.Set("started_after", strconv.FormatInt(o.StartedAfter.UnixMilli(), 10))
	}
	if !o.StartedBefore.IsZero() {
		base.Set("started_before", strconv.FormatInt(o.StartedBefore.UnixMilli(), 10))
	}
	switch {
	case (o.TargetID != 0) != (o.TargetType != ""):
		return fail(invalid(op, "TargetID and TargetType go together: set both or neither"))
	case o.TargetID < 0:
		return fail(invalid(op, "TargetID %d must be positive", o.TargetID))
	case o.TargetType != "" && !callTargetTypes[o.TargetType]:
		return fail(invalid(op, "TargetType %q is not a Dialpad target type (user, callcenter, department, office, ...)", o.TargetType))
	case o.TargetID != 0:
		base.Set("target_id", strconv.FormatInt(o.TargetID, 10))
		base.Set("target_type", o.TargetType)
	}
	return paginate.Cursor(ctx, func(ctx context.Context, cursor string) ([]CallEvent, string, error) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var out callsPage
		if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/api/v2/call", Query: q, Out: &out}); err != nil {
			return nil, "", err
		}
		calls := make([]CallEvent, 0, len(out.Items))
		for _, raw := range out.Items {
			var e CallEvent
			if json.Unmarshal(raw, &e) == nil && e.CallID > 0 {
				calls = append(calls, e)
			}
		}
		return calls, out.Cursor, nil
	})
}

// Get returns one call (Dialpad's CallProto, the object its call events
// carry). Dialpad allows 10 of these a minute: the client enforces it
// before sending, waiting for a slot within the context deadline (and the
// client's maximum retry wait) or failing at once with an error matching
// telephony.ErrRateLimited. An unknown id is telephony.ErrNotFound.
//
// API: GET /api/v2/call/{id}
func (s *CallsService) Get(ctx context.Context, id int64) (*CallEvent, error) {
	const op = "GET /api/v2/call/{id}"
	if id <= 0 {
		return nil, invalid(op, "call id %d must be positive", id)
	}
	lim := s.c.t.Account().Keyed("dialpad.call.get", time.Minute/CallGetsPerMinute, CallGetsPerMinute)
	release, wait, ok, err := lim.Take(ctx, "company", s.c.maxWait())
	if err != nil {
		return nil, &telephony.Error{Kind: telephony.ErrRateLimited, Provider: telephony.ProviderDialpad, Op: op, RetryAfter: wait,
			Message: "the context ended while waiting for Dialpad's limit of 10 call reads a minute; nothing was sent", Err: err}
	}
	if !ok {
		return nil, rateLimited(op, wait, "Dialpad allows 10 call reads (GET /api/v2/call/{id}) a minute; the next is in "+wait.Round(time.Millisecond).String())
	}
	var out CallEvent
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/api/v2/call/" + strconv.FormatInt(id, 10),
		Route: "/api/v2/call/{id}", Out: &out}); err != nil {
		if !mayHaveActed(err) {
			release()
		}
		return nil, err
	}
	return &out, nil
}

// Record returns the call as a portable call record: the agent is the
// target when it is a user; a call that ended without being connected is
// missed (inbound) or no-answer (outbound).
func (e *CallEvent) Record() telephony.CallRecord {
	ev := e.portable()
	r := telephony.CallRecord{
		ID: ev.CallID, Provider: telephony.ProviderDialpad, Direction: ev.Direction,
		From: ev.From, To: ev.To, AgentID: ev.AgentID, Status: ev.Status,
		StartedAt: e.DateStarted, AnsweredAt: e.DateConnected, EndedAt: e.DateEnded, Duration: e.Duration,
	}
	if r.AgentID != "" && e.Target != nil {
		r.AgentEmail = e.Target.Email
	}
	if r.Status == telephony.StatusCompleted && e.DateConnected.IsZero() {
		r.Status = telephony.StatusMissed
		if r.Direction == telephony.DirectionOutbound {
			r.Status = telephony.StatusNoAnswer
		}
	}
	return r
}

// CallFilters: Dialpad's call list filters by time and by target (the
// agent as a user target), not by number or direction.
func (d *driver) CallFilters() telephony.CallFilters {
	return telephony.CallFilters{AgentID: true, TimeRange: true}
}

// Calls lists the concluded calls with Calls.List, newest first.
func (d *driver) Calls(ctx context.Context, q telephony.CallQuery) iter.Seq2[telephony.CallRecord, error] {
	o := ListCallsOptions{StartedAfter: q.Since, StartedBefore: q.Until}
	if q.AgentID != "" {
		id, err := parseID(q.AgentID)
		if err != nil {
			return func(yield func(telephony.CallRecord, error) bool) {
				yield(telephony.CallRecord{}, invalid("Calls", "AgentID %q must be a Dialpad user id (a positive integer)", q.AgentID))
			}
		}
		o.TargetID, o.TargetType = id, TargetTypeUser
	}
	return func(yield func(telephony.CallRecord, error) bool) {
		for c, err := range d.c.Calls.List(ctx, &o) {
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

var _ telephony.CallHistory = (*driver)(nil)
