package justcalltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// This file is the surface the three simulators (justcalltest, dialpadtest,
// aircalltest) share, with the same names and shapes: SeedUsers and
// AddUser, SetRateLimits and Throttled, AddWebhook, SimulateInbound,
// FlushEvents and InjectFault. See the README's "Testing your own code".

// uniform is the state the shared surface adds, guarded by Server.mu.
type uniform struct {
	retryAfter string          // RateLimit.RetryAfter
	throttled  int             // 429s answered by the rate limit
	hooks      []uniformHook   // AddWebhook's
	inbound    map[string]bool // ids of the calls SimulateInbound created
}

type uniformHook struct {
	id, url, secret string
}

// RateLimit is the account's rate limiting, for SetRateLimits. Zero
// fields are unlimited.
type RateLimit struct {
	// PerMinute is the burst limit, requests per minute (JustCall's Team
	// plan: 30), reported in the X-Rate-Limit-Burst-* headers. aircalltest's
	// RateLimit has a field of the same name and meaning.
	PerMinute int
	// PerHour is the hourly limit (Team plan: 1,800), reported in the
	// X-Rate-Limit-* headers.
	PerHour int
	// RetryAfter, when set, is sent as Retry-After with every 429 of the
	// rate limit. JustCall sends none (clients wait for the reset
	// headers); dialpadtest and aircalltest have the same field.
	RetryAfter string
}

// SetRateLimits replaces the rate limits with l and starts new windows,
// as SetRateLimit(l.PerMinute, l.PerHour) does, with a Retry-After added.
// Unlike a new Server, whose limits are DefaultPerMinute and
// DefaultPerHour, a zero field here means no limit.
func (s *Server) SetRateLimits(l RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rl = rateState{perMinute: l.PerMinute, perHour: l.PerHour}
	s.uni.retryAfter = l.RetryAfter
}

// Throttled returns how many requests the rate limit answered with 429
// (injected 429 faults are not counted).
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uni.throttled
}

// AddWebhook subscribes url to every webhook the simulator emits
// (EmitWebhook, EmitCallEvent and SimulateInbound's call.incoming), of any
// type, and returns the subscription's url_id (24 hex digits). Each
// delivery is signed as JustCall signs, with secret as the key: JustCall
// has no per-webhook secret and signs with the account's API secret, so
// pass the same secret to justcall.NewWebhookHandler; "" means APISecret.
//
// Webhooks registered through the REST API (POST /v2.1/webhooks) get the
// types they registered for; those added here are not listed by
// RegisteredWebhooks or GET /v2.1/webhooks.
func (s *Server) AddWebhook(url, secret string) string {
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	h := uniformHook{id: hex.EncodeToString(id), url: url, secret: secret}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uni.hooks = append(s.uni.hooks, h)
	return h.id
}

// uniformTargetsLocked returns AddWebhook's subscriptions as targets of
// an event of eventType. Called with s.mu held.
func (s *Server) uniformTargetsLocked(eventType string) []RegisteredWebhook {
	out := make([]RegisteredWebhook, 0, len(s.uni.hooks))
	for _, h := range s.uni.hooks {
		out = append(out, RegisteredWebhook{URLID: h.id, Type: eventType, URL: h.url})
	}
	return out
}

// signingSecret is the key deliveries to the subscription urlID are
// signed with: AddWebhook's secret, or APISecret.
func (s *Server) signingSecret(urlID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.uni.hooks {
		if h.id == urlID && h.secret != "" {
			return h.secret
		}
	}
	return APISecret
}

// InboundCall is a call a customer makes to a number of the account, for
// SimulateInbound.
type InboundCall struct {
	// From is the caller's number.
	From string
	// To is the JustCall number called: a number of the account (a
	// user's Numbers, or AddNumber); its owner is the call's agent.
	To string
}

// InboundResult reports the call SimulateInbound created.
type InboundResult struct {
	// CallID is the new call's id (call_00000001...), as Calls and GET
	// /v2.1/calls/{id} show it.
	CallID string
	// AgentID is the agent who owns the number called.
	AgentID int64
}

// SimulateInbound makes a customer call a number of the account: it
// records an incoming call (Calls lists it with From the caller and To
// the JustCall number; its call object has direction "Incoming") and
// emits the call.incoming webhook, as EmitCallEvent does, to the URLs
// registered for that type and to AddWebhook's, returning once they
// have answered. JustCall has no routing request for inbound calls. The
// deliveries, failed ones included, show in Deliveries: the error is for
// the simulation itself (an empty From, a To the account does not own, a
// closed server, ctx ended).
func (s *Server) SimulateInbound(ctx context.Context, call InboundCall) (InboundResult, error) {
	if err := ctx.Err(); err != nil {
		return InboundResult{}, err
	}
	if s.ctx.Err() != nil {
		return InboundResult{}, errors.New("justcalltest: server closed")
	}
	if call.From == "" {
		return InboundResult{}, errors.New("justcalltest: an inbound call needs From")
	}
	s.mu.Lock()
	owner, ok := s.numbers[call.To]
	if !ok {
		s.mu.Unlock()
		return InboundResult{}, fmt.Errorf("justcalltest: %q is not a number of the account (AddUser's Numbers or AddNumber)", call.To)
	}
	c := &Call{ID: fmt.Sprintf("call_%08d", len(s.calls)+1), From: call.From, To: call.To, AgentID: owner, Status: "ringing"}
	s.calls = append(s.calls, c)
	if s.uni.inbound == nil {
		s.uni.inbound = map[string]bool{}
	}
	s.uni.inbound[c.ID] = true
	s.mu.Unlock()
	_, _ = s.EmitCallEvent("call.incoming", c.ID)
	return InboundResult{CallID: c.ID, AgentID: owner}, nil
}

// FlushEvents waits until every callback sequence started so far has been
// played; webhooks (EmitWebhook, SimulateInbound) are posted
// synchronously and have been answered when their method returns. Do not
// call it while calls are still being placed. It is Flush under the name
// the three simulators share.
func (s *Server) FlushEvents() { s.wg.Wait() }
