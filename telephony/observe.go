package telephony

import (
	"context"
	"time"
)

// Observer is told what clients and handlers do, for tracing and metrics.
// Package telephony/otel implements it on OpenTelemetry; a program that
// sets none pays nothing (no observer: no calls, no allocations) and does
// not compile OpenTelemetry.
//
// Every method may be called from many goroutines at once and must return
// quickly. The func a Start method returns is called exactly once.
type Observer interface {
	// StartOperation is called when a client operation (one logical API
	// call, all its attempts and waits) starts. The context it returns is
	// the one the operation runs in (a tracer puts its span there).
	StartOperation(ctx context.Context, op Operation) (context.Context, func(OperationResult))
	// StartAttempt is called before each HTTP request of an operation.
	StartAttempt(ctx context.Context, op Operation, attempt int) (context.Context, func(AttemptResult))
	// Delivery is called once an inbound handler has answered a request.
	Delivery(ctx context.Context, d Delivery)
}

// Operation names a client operation.
type Operation struct {
	Provider string // "justcall", "dialpad", "aircall"
	// Name is the method and route template ("POST /api/v2/call"): never
	// an id, a query string or a credential.
	Name string
}

// OperationResult is how an operation ended.
type OperationResult struct {
	// StatusCode is the final HTTP status, 0 when no answer arrived.
	StatusCode int
	// Attempts is how many requests went out.
	Attempts int
	// RequestID is the provider's request id, when it sent one.
	RequestID string
	// RateLimit is the provider's rate-limit state after the operation,
	// when its headers said.
	RateLimit RateLimitState
	// LimiterWait is the time spent waiting for the client-side rate
	// limiter, the 429 gate and per-endpoint limits (not for backoff).
	LimiterWait time.Duration
	// RetryWait is the time spent between attempts (backoff, Retry-After).
	RetryWait time.Duration
	// Err is the operation's error (a *Error), nil on success.
	Err error
}

// RateLimitState is what a provider's rate-limit headers said.
type RateLimitState struct {
	Known     bool // the headers were there
	Limit     int
	Remaining int
	Reset     time.Time
}

// AttemptResult is how one HTTP request ended.
type AttemptResult struct {
	StatusCode int   // 0 when no answer arrived
	Err        error // the transport error, if any
}

// Delivery describes one request an inbound handler answered.
type Delivery struct {
	Provider string // "justcall", "dialpad", "aircall"
	// Handler is "webhook", "callback" or "routing".
	Handler string
	// Result is what became of the request: "accepted", "duplicate",
	// "ignored", "rejected", "busy", "dropped", "routed", "fallback",
	// "failed".
	Result string
	// Status is the HTTP status answered.
	Status int
	// Decision says how a routing decision was made, for routing handlers:
	// "route" (the RouteFunc's answer), "no-route", or the fallback's
	// cause ("error", "timeout", "panic", "unresolved", ...).
	Decision string
	// Latency is the time from the request's arrival to its answer (for
	// Dialpad routing, the decision latency Dialpad sees).
	Latency time.Duration
	// CallID is the provider's call id, when the request named one.
	CallID string
	// Err is the reason of a rejection or failure.
	Err error
}

// ResponseMeta is what a successful operation's answer said besides its
// body: ask for it with WithResponseMeta.
type ResponseMeta struct {
	StatusCode int
	RequestID  string
	Attempts   int
	RateLimit  RateLimitState
}

type responseMetaKey struct{}

// WithResponseMeta returns a context under which the next client operation
// fills *m with its answer's metadata (request id, attempts, rate-limit
// state), success or failure, without changing any method's signature:
//
//	var meta telephony.ResponseMeta
//	call, err := phone.Dial(telephony.WithResponseMeta(ctx, &meta), req)
//	log.Println(meta.RequestID, meta.Attempts, meta.RateLimit.Remaining)
//
// Use one context (and one ResponseMeta) per operation: an operation that
// makes several requests (a listing) fills it with the last one's.
func WithResponseMeta(ctx context.Context, m *ResponseMeta) context.Context {
	return context.WithValue(ctx, responseMetaKey{}, m)
}

// ResponseMetaFrom returns the *ResponseMeta WithResponseMeta put in ctx,
// or nil. Provider packages fill it.
func ResponseMetaFrom(ctx context.Context) *ResponseMeta {
	m, _ := ctx.Value(responseMetaKey{}).(*ResponseMeta)
	return m
}

// WithObserver makes the client report every operation and attempt to o
// (see package telephony/otel). Handlers take an Observer in their
// options.
func WithObserver(o Observer) Option {
	return func(s *Settings) error {
		s.Observer = o
		return nil
	}
}
