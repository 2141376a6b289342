package dialpadtest

import (
	"context"
	"fmt"
	"slices"

	"github.com/switchboard-go/switchboard/telephony"
)

// This file is the surface the three simulators (justcalltest, dialpadtest,
// aircalltest) share, with the same names and shapes: SeedUsers and
// AddUser, SetRateLimits and Throttled, AddWebhook, SimulateInbound,
// FlushEvents and InjectFault. See the README's "Testing your own code".

// uniform is the state the shared surface adds, guarded by Server.mu.
type uniform struct {
	throttled int // 429s answered by the rate limits
}

// SetRateLimits replaces the simulator's rate limits with l; see
// RateLimit. It is SetRateLimit under the name the three simulators share
// (each has its own RateLimit: Dialpad's limits are per company per
// second, per user and per router, so only RetryAfter has a namesake in
// justcalltest and aircalltest). As with SetRateLimit, zero fields are
// unlimited: NewServer's defaults (5 calls per user per minute, 1 router
// update per 5 minutes) are replaced too.
func (s *Server) SetRateLimits(l RateLimit) { s.SetRateLimit(l) }

// Throttled returns how many requests the rate limits (company, calls per
// user, router updates) answered with 429; injected 429 faults are not
// counted.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uni.throttled
}

// InboundCall is a call a customer makes to a Dialpad number, for
// SimulateInbound.
type InboundCall struct {
	// From is the caller's E.164 number.
	From string
	// To is the Dialpad number called (E.164): a number assigned to a
	// call router, or a user's direct number (User.PhoneNumbers). With
	// RouterID set, "" means the router's first number.
	To string
	// RouterID, when set, is the call router the call reaches, whatever
	// To is; zero finds it from To.
	RouterID int64
}

// SimulateInbound makes a customer call a Dialpad number, as Dialpad
// does. A call to a router's number (or with RouterID) is routed as
// SimulateInboundCall routes it: the routing request goes to the router's
// routing_url, and a failure falls back to the default target and counts
// a routing error. A call to a user's direct number rings that user
// (TargetType "user") without a routing request. Either way the call is
// created ringing and its call event is queued for the webhooks (see
// FlushEvents).
//
// The error is for the simulation itself (a bad number, a To that is
// neither a router's nor a user's, ctx ended); routing failures are
// reported in the result.
func (s *Server) SimulateInbound(ctx context.Context, call InboundCall) (InboundResult, error) {
	if err := ctx.Err(); err != nil {
		return InboundResult{}, err
	}
	if call.RouterID != 0 {
		return s.SimulateInboundCall(ctx, call.RouterID, call.From, call.To)
	}
	s.mu.Lock()
	routerID, ok := s.numbers[call.To]
	s.mu.Unlock()
	if ok {
		return s.SimulateInboundCall(ctx, routerID, call.From, call.To)
	}
	if err := telephony.ValidateE164(call.From); err != nil {
		return InboundResult{}, fmt.Errorf("dialpadtest: from: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var user *User
	for _, u := range s.users {
		if slices.Contains(u.PhoneNumbers, call.To) {
			user = u
			break
		}
	}
	if user == nil {
		return InboundResult{}, fmt.Errorf("dialpadtest: %q is neither a call router's number nor a user's", call.To)
	}
	if _, ok := s.contacts[call.From]; !ok {
		s.contacts[call.From] = s.newID()
	}
	c := &Call{Direction: "inbound", State: "ringing", ExternalNumber: call.From, InternalNumber: call.To,
		TargetID: user.ID, TargetType: "user"}
	s.addCall(c)
	return InboundResult{CallID: c.ID, TargetID: user.ID, TargetType: "user"}, nil
}
