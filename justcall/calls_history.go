package justcall

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/paginate"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// Page sizes of GET /v2.1/calls, as JustCall documents them.
const (
	DefaultCallsPerPage = 20
	MaxCallsPerPage     = 100
)

// DateTimeLayout is how JustCall writes from_datetime and to_datetime
// ("2024-03-21 17:08:22"), in the account's time zone.
const DateTimeLayout = time.DateTime

// ListCallsOptions filters and pages GET /v2.1/calls. A nil
// *ListCallsOptions lists every call, newest first.
//
// The parameter names are those of JustCall's v2.1 "List all calls"
// (contact_number, agent_id, call_direction, from_datetime, to_datetime,
// page, per_page, sort, order), as its official MCP server sends them.
type ListCallsOptions struct {
	// PerPage is the page size, 1 to 100; zero means 100 (fewest
	// requests).
	PerPage int
	// Page is the first page to fetch; zero is FirstPage.
	Page int
	// ContactNumber keeps calls with this customer number, in E.164. It is
	// sent as JustCall's reference describes it: the country code and the
	// number, without the '+'.
	ContactNumber string
	// AgentID keeps calls of this agent.
	AgentID int64
	// Direction keeps "Incoming" or "Outgoing" calls (JustCall's words;
	// "inbound" and "outbound" are accepted too).
	Direction string
	// From and To keep calls that started in [From, To]. JustCall reads
	// them as wall-clock times of the account's time zone: they are
	// written in Zone.
	From, To time.Time
	// Zone is the account's time zone; nil means UTC.
	Zone *time.Location
	// Order is "desc" (newest first, the default here) or "asc", by call
	// date.
	Order string
}

type callsPage struct {
	Data         []json.RawMessage `json:"data"`
	NextPageLink json.RawMessage   `json:"next_page_link"`
}

// List iterates over the account's calls with GET /v2.1/calls, newest
// first unless opts.Order says otherwise, fetching pages as the loop
// advances, from page FirstPage. The walk stops at a short page or an
// empty next_page_link; a call met twice (see FirstPage) is yielded once.
// Invalid options yield an error matching telephony.ErrInvalidRequest and
// send nothing.
func (s *CallsService) List(ctx context.Context, opts *ListCallsOptions) iter.Seq2[CallDetails, error] {
	const op = "Calls.List"
	var o ListCallsOptions
	if opts != nil {
		o = *opts
	}
	fail := func(format string, args ...any) iter.Seq2[CallDetails, error] {
		err := telephony.InvalidArgument(telephony.ProviderJustCall, op, format, args...)
		return func(yield func(CallDetails, error) bool) { yield(CallDetails{}, err) }
	}
	if o.PerPage == 0 {
		o.PerPage = MaxCallsPerPage
	}
	if o.PerPage < 1 || o.PerPage > MaxCallsPerPage || o.Page < 0 {
		return fail("PerPage must be 1 to %d and Page non-negative (got %d, %d)", MaxCallsPerPage, o.PerPage, o.Page)
	}
	base := url.Values{}
	base.Set("per_page", strconv.Itoa(o.PerPage))
	base.Set("sort", "datetime")
	switch o.Order {
	case "":
		base.Set("order", "desc")
	case "asc", "desc":
		base.Set("order", o.Order)
	default:
		return fail("Order %q must be \"asc\" or \"desc\"", o.Order)
	}
	if o.ContactNumber != "" {
		if err := telephony.ValidateE164(o.ContactNumber); err != nil {
			return fail("ContactNumber: %v", err)
		}
		base.Set("contact_number", strings.TrimPrefix(o.ContactNumber, "+"))
	}
	if o.AgentID < 0 {
		return fail("AgentID %d must be positive", o.AgentID)
	}
	if o.AgentID > 0 {
		base.Set("agent_id", strconv.FormatInt(o.AgentID, 10))
	}
	switch direction(o.Direction) {
	case telephony.DirectionInbound:
		base.Set("call_direction", "Incoming")
	case telephony.DirectionOutbound:
		base.Set("call_direction", "Outgoing")
	default:
		if o.Direction != "" {
			return fail("Direction %q must be \"Incoming\" or \"Outgoing\"", o.Direction)
		}
	}
	zone := o.Zone
	if zone == nil {
		zone = time.UTC
	}
	if !o.From.IsZero() {
		base.Set("from_datetime", o.From.In(zone).Format(DateTimeLayout))
	}
	if !o.To.IsZero() {
		base.Set("to_datetime", o.To.In(zone).Format(DateTimeLayout))
	}
	pages := paginate.PageNumber(ctx, FirstPage+o.Page, func(ctx context.Context, page int) ([]CallDetails, bool, error) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(page))
		var out callsPage
		if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/v2.1/calls", Query: q, Out: &out}); err != nil {
			return nil, false, err
		}
		calls := make([]CallDetails, 0, len(out.Data))
		for _, raw := range out.Data {
			if d, ok := decodeCallDetails(raw); ok {
				calls = append(calls, *d)
			}
		}
		more := len(out.Data) == o.PerPage
		if link := bytes.TrimSpace(out.NextPageLink); len(link) > 0 {
			var next string
			_ = json.Unmarshal(link, &next)
			more = next != "" && len(out.Data) > 0
		}
		return calls, more, nil
	})
	// Whether JustCall numbers call pages from 0 or 1 is not documented:
	// if page 0 is page 1 again, its calls come twice. Each is yielded once.
	return func(yield func(CallDetails, error) bool) {
		seen := map[string]struct{}{}
		for d, err := range pages {
			if err == nil {
				if _, dup := seen[d.ID]; dup {
					continue
				}
				seen[d.ID] = struct{}{}
			}
			if !yield(d, err) {
				return
			}
		}
	}
}

// Started returns when the call started: CallDate and CallTime read as
// UTC, as the clients we read treat them (JustCall's reference does not
// name their zone); zero when they do not parse.
func (d *CallDetails) Started() time.Time {
	t, err := time.ParseInLocation(DateTimeLayout, d.CallDate+" "+d.CallTime, time.UTC)
	if err != nil {
		return time.Time{}
	}
	return t
}

// callTypeStatus maps call_info.type to a portable status.
var callTypeStatus = map[string]telephony.CallStatus{
	"answered": telephony.StatusCompleted, "missed": telephony.StatusMissed,
	"unanswered": telephony.StatusNoAnswer, "voicemail": telephony.StatusVoicemail,
	"busy": telephony.StatusBusy, "failed": telephony.StatusFailed, "abandoned": telephony.StatusMissed,
}

// Record returns the call as a portable call record. JustCall gives no
// answer or end time: AnsweredAt and EndedAt stay zero.
func (d *CallDetails) Record() telephony.CallRecord {
	r := telephony.CallRecord{
		ID: d.ID, Provider: telephony.ProviderJustCall, Direction: direction(d.Direction),
		Status: callTypeStatus[strings.ToLower(strings.TrimSpace(d.Type))], AgentEmail: d.AgentEmail,
		StartedAt: d.Started(), Duration: time.Duration(max(d.Duration, 0)) * time.Second,
	}
	if d.AgentID > 0 {
		r.AgentID = strconv.FormatInt(d.AgentID, 10)
	}
	contact, line := telephony.NormalizeNumber(d.ContactNumber), telephony.NormalizeNumber(d.JustCallNumber)
	r.From, r.To = line, contact
	if r.Direction == telephony.DirectionInbound {
		r.From, r.To = contact, line
	}
	return r
}

// CallFilters: JustCall filters by contact number, direction and agent. Its
// time range is in the account's zone, which the portable client does not
// know, so the range sent is widened by the widest zone offsets and the
// portable layer keeps the exact range.
func (driver) CallFilters() telephony.CallFilters {
	return telephony.CallFilters{Number: true, Direction: true, AgentID: true}
}

// Calls lists the history with Calls.List, newest first.
func (d driver) Calls(ctx context.Context, q telephony.CallQuery) iter.Seq2[telephony.CallRecord, error] {
	o := ListCallsOptions{ContactNumber: q.Number, Direction: string(q.Direction)}
	if q.AgentID != "" {
		n, err := strconv.ParseInt(q.AgentID, 10, 64)
		if err != nil || n <= 0 {
			return func(yield func(telephony.CallRecord, error) bool) {
				yield(telephony.CallRecord{}, telephony.InvalidArgument(telephony.ProviderJustCall, "Calls",
					"AgentID %q is not a JustCall agent id (a positive integer)", q.AgentID))
			}
		}
		o.AgentID = n
	}
	// The account's wall clock is UTC-12 to UTC+14: widen to cover any.
	if !q.Since.IsZero() {
		o.From = q.Since.Add(-12 * time.Hour)
	}
	if !q.Until.IsZero() {
		o.To = q.Until.Add(14 * time.Hour)
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

var _ telephony.CallHistory = driver{}
