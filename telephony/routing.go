package telephony

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A Rule is one step of a routing decision. It returns ok=false when it has
// no opinion about the call, so the next rule is asked. Rules compose with
// Route into a RouteFunc that every provider's routing handler accepts.
type Rule func(ctx context.Context, call InboundCall) (to Target, ok bool, err error)

// ErrNoRoute is returned by a RouteFunc built with Route when no rule
// matched and no fallback was given; routing handlers then use their own
// configured fallback.
var ErrNoRoute = errors.New("no routing rule matched")

// Route builds a RouteFunc that asks rules in order and returns the first
// target one of them gives. A rule's error stops the walk and is returned,
// so the routing handler answers with its fallback (a broken CRM lookup
// must not send the caller to the wrong agent). When no rule matches, the
// fallback target is returned, or ErrNoRoute when fallback is zero.
func Route(fallback Target, rules ...Rule) RouteFunc {
	return func(ctx context.Context, call InboundCall) (Target, error) {
		for _, r := range rules {
			if err := ctx.Err(); err != nil {
				return Target{}, err
			}
			to, ok, err := r(ctx, call)
			if err != nil {
				return Target{}, err
			}
			if ok {
				return to, nil
			}
		}
		if fallback.IsZero() {
			return Target{}, ErrNoRoute
		}
		return fallback, nil
	}
}

// LastAgent sends callers to the agent they spoke to last. lookup returns
// that agent's email (or "" when the caller is unknown) for the caller's
// number, typically from a CRM or the call history; the email is resolved
// to a provider user by the routing handler through the provider's cached
// directory.
func LastAgent(lookup func(ctx context.Context, callerE164 string) (agentEmail string, err error)) Rule {
	return func(ctx context.Context, call InboundCall) (Target, bool, error) {
		if call.From == "" {
			return Target{}, false, nil
		}
		email, err := lookup(ctx, call.From)
		if err != nil {
			return Target{}, false, fmt.Errorf("last agent lookup: %w", err)
		}
		if email == "" {
			return Target{}, false, nil
		}
		return UserByEmail(email), true, nil
	}
}

// ByCallerPrefix routes on the caller's number: the longest matching E.164
// prefix (for example "+1415" for San Francisco, "+44" for the UK) wins.
func ByCallerPrefix(targets map[string]Target) Rule {
	return func(ctx context.Context, call InboundCall) (Target, bool, error) {
		best, bestLen := Target{}, 0
		for prefix, t := range targets {
			if len(prefix) > bestLen && strings.HasPrefix(call.From, prefix) {
				best, bestLen = t, len(prefix)
			}
		}
		return best, bestLen > 0, nil
	}
}

// ByDialledNumber routes on the number the caller dialled (Dialpad routers
// and Aircall lines can carry several: one per campaign, sales, support).
func ByDialledNumber(targets map[string]Target) Rule {
	return func(ctx context.Context, call InboundCall) (Target, bool, error) {
		t, ok := targets[call.To]
		return t, ok, nil
	}
}

// Hours is a weekly opening schedule in one time zone.
type Hours struct {
	Location *time.Location // nil means UTC
	Days     []time.Weekday // empty means Monday to Friday
	Open     time.Duration  // clock time, e.g. 9*time.Hour
	Close    time.Duration  // clock time, e.g. 17*time.Hour+30*time.Minute; before Open for overnight hours
}

// Contains reports whether t falls inside the schedule.
func (h Hours) Contains(t time.Time) bool {
	loc := h.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	days := h.Days
	if len(days) == 0 {
		days = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	open := false
	for _, d := range days {
		if t.Weekday() == d {
			open = true
		}
	}
	if !open {
		return false
	}
	// Clock time, not time since midnight: the two differ by an hour on
	// daylight-saving days.
	hh, mm, ss := t.Clock()
	at := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second
	if h.Open <= h.Close {
		return at >= h.Open && at < h.Close
	}
	return at >= h.Open || at < h.Close // overnight, e.g. 22:00 to 06:00
}

// OutsideHours routes calls that arrive outside the schedule to the target
// (an after-hours team or voicemail line) and leaves calls inside it to the
// next rule. The call's StartedAt is used, or now when it is zero.
func OutsideHours(h Hours, to Target, now func() time.Time) Rule {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, call InboundCall) (Target, bool, error) {
		at := call.StartedAt
		if at.IsZero() {
			at = now()
		}
		if h.Contains(at) {
			return Target{}, false, nil
		}
		return to, true, nil
	}
}

// Always routes every call to the target; use it last, or as a Rule of its
// own in a chain.
func Always(to Target) Rule {
	return func(context.Context, InboundCall) (Target, bool, error) { return to, true, nil }
}
