package aircalltest

import (
	"context"
	"errors"
	"slices"
	"time"
)

// This file is the surface the three simulators (justcalltest, dialpadtest,
// aircalltest) share, with the same names and shapes: SeedUsers and
// AddUser, SetRateLimits and Throttled, AddWebhook, SimulateInbound,
// FlushEvents and InjectFault. See the README's "Testing your own code".

// uniform is the state the shared surface adds, guarded by Server.mu.
type uniform struct {
	retryAfter string // RateLimit.RetryAfter
}

// RateLimit is the simulator's rate limiting, for SetRateLimits. The
// zero value turns limiting off (the simulator's default).
type RateLimit struct {
	// PerMinute is the company's limit in requests per minute (Aircall
	// documents 60), reported in X-AircallApi-Limit; 0 turns limiting off.
	// JustCall's RateLimit has a field of the same name and meaning.
	PerMinute int
	// Window is the length of the clock-aligned windows requests are
	// counted in; zero means a minute. A window allows PerMinute scaled to
	// its length, at least one request: {PerMinute: 180, Window:
	// time.Second} allows 3 requests in each second, so that a test need
	// not wait a minute for a reset. For a quota that is not a whole
	// number of requests per minute (1 an hour), use SetRateLimit.
	Window time.Duration
	// RetryAfter, when set, is sent as Retry-After with every 429 of the
	// rate limit. Aircall sends none (clients wait for
	// X-AircallApi-Reset); dialpadtest and justcalltest have the same
	// field.
	RetryAfter string
}

// SetRateLimits replaces the rate limit with l (see RateLimit) and starts
// a new window. It is SetRateLimit(PerMinute scaled to Window, Window)
// with a Retry-After added; Throttled counts the 429s either answers.
func (s *Server) SetRateLimits(l RateLimit) {
	window := l.Window
	if window <= 0 {
		window = time.Minute
	}
	limit := 0
	if l.PerMinute > 0 {
		limit = max(1, int(int64(l.PerMinute)*int64(window)/int64(time.Minute)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit, s.window, s.winStart, s.used = limit, window, time.Time{}, 0
	s.uni.retryAfter = l.RetryAfter
}

// callEvents are the call events a webhook added with AddWebhook
// subscribes to: every one Aircall sends (aircall.EventCall...).
var callEvents = []string{
	"call.created", "call.ringing_on_agent", "call.answered", "call.transferred",
	"call.hungup", "call.ended", "call.voicemail_left",
}

// AddWebhook registers url for every call event, as a webhook created
// with POST /v1/webhooks would be (it is listed by APIWebhooks and GET
// /v1/webhooks, and deactivated after SetWebhookFailureLimit failed
// deliveries in a row), and returns its webhook_id. secret is the
// webhook's token, which Aircall puts in every body (Aircall signs
// nothing): pass the same to aircall.NewWebhookHandler. An empty secret is
// left out of the bodies.
//
// Unlike SetWebhook, which keeps one URL and replaces it, every call adds
// a webhook; both receive the events.
func (s *Server) AddWebhook(url, secret string) string {
	h := &APIWebhook{ID: newUUID(), CustomName: "AddWebhook", URL: url, Events: slices.Clone(callEvents),
		Active: true, Token: secret, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.api.hooks == nil {
		s.api.hooks = map[string]*APIWebhook{}
	}
	s.api.hooks[h.ID] = h
	s.api.order = append(s.api.order, h.ID)
	return h.ID
}

// InboundCall is a call a customer makes to the company, for
// SimulateInbound.
type InboundCall struct {
	// From is the caller's number.
	From string
	// To is the company number called, matched ignoring spaces and
	// punctuation ("+1 415 500 0001" is "+14155000001"); an unknown number
	// is added to the company.
	To string
}

// InboundResult reports the call SimulateInbound created.
type InboundResult struct {
	// CallID is the new call's id.
	CallID int64
	// NumberID is the id of the company number called.
	NumberID int64
}

// SimulateInbound makes a customer call the company: it creates an
// inbound call (status "initial") and posts call.created to every
// webhook (SetWebhook's, AddWebhook's and those created through the REST
// API that subscribe to it), returning once they have answered. Aircall
// has no routing request; later events follow from AnswerCall and HangUp.
// The deliveries, failed ones included, show in Deliveries: the error is
// for the simulation itself (an empty From or To, ctx ended).
//
// It is SimulateInboundCall with the shape the three simulators share.
func (s *Server) SimulateInbound(ctx context.Context, call InboundCall) (InboundResult, error) {
	if err := ctx.Err(); err != nil {
		return InboundResult{}, err
	}
	if call.From == "" || call.To == "" {
		return InboundResult{}, errors.New("aircalltest: an inbound call needs From and To")
	}
	id := s.SimulateInboundCall(call.From, call.To)
	c, _ := s.Call(id)
	return InboundResult{CallID: id, NumberID: c.NumberID}, nil
}

// FlushEvents returns at once: the simulator posts every webhook
// synchronously, from the method that causes it, so none is in flight
// when that method has returned. It is here so that code driving any of
// the three simulators can call it (dialpadtest delivers events in the
// background, justcalltest plays callbacks in the background).
func (s *Server) FlushEvents() {}
