package telephony

import (
	"context"
	"fmt"
	"net/http"
)

// Handler is the shape every inbound handler of the provider packages has
// (justcall.WebhookHandler and CallbackHandler, dialpad.WebhookHandler and
// RoutingHandler, aircall.WebhookHandler and RoutingHandler): an
// http.Handler that is closed on shutdown and reports its counters.
type Handler interface {
	http.Handler
	// Close stops taking work in and waits for the work in hand, or for
	// ctx to end.
	Close(ctx context.Context) error
	// Stats returns the handler's counters since it was built.
	Stats() HandlerStats
}

// Rejection reasons: the keys of HandlerStats.Rejected.
const (
	RejectMethod       = "method"       // not a POST (405)
	RejectTooLarge     = "too_large"    // body over the limit (413)
	RejectUnauthorized = "unauthorized" // failed verification (401)
	RejectMalformed    = "malformed"    // unreadable or undecodable (400)
)

// HandlerStats are an inbound handler's counters since it was built. Every
// handler fills the counters that apply to it and leaves the others zero.
type HandlerStats struct {
	// Received is every request.
	Received int64
	// Rejected is requests refused with 4xx, by reason (RejectMethod,
	// RejectTooLarge, RejectUnauthorized, RejectMalformed).
	Rejected map[string]int64
	// Accepted is events (or calls to route) taken in, durably or in
	// process.
	Accepted int64
	// Duplicates is redeliveries acknowledged without processing.
	Duplicates int64
	// Ignored is genuine deliveries with nothing to do: events about other
	// resources, outbound calls, calls a RouteFunc left alone.
	Ignored int64
	// Delivered is EventFunc calls that returned nil.
	Delivered int64
	// Failed is EventFunc calls that failed or panicked, and calls whose
	// routing failed.
	Failed int64
	// Routed is calls routed: for Dialpad, answered with the RouteFunc's
	// target; for Aircall, transferred (to the Fallback too).
	Routed int64
	// Fallbacks is calls sent to the fallback target, by cause.
	Fallbacks map[string]int64
	// Skipped is calls no longer transferable when re-read (Aircall).
	Skipped int64
	// Busy is deliveries answered 503 so that the provider redelivers
	// (MaxInFlight reached, or Close called).
	Busy int64
	// Dropped is genuine deliveries answered 200 whose work was not done:
	// for providers that must not be refused (Aircall), work beyond the
	// queue, after Close, or that could not be decoded. Each is logged and
	// reported to OnError.
	Dropped int64
	// Durable is events appended to the durable event log.
	Durable int64
	// Degraded is deliveries the state store failed (handled in process,
	// or answered 503 when the provider redelivers).
	Degraded int64
	// InFlight is the work running now (EventFunc or RouteFunc calls).
	InFlight int
	// ErrorsLastHour is, for Dialpad routing, how many answers of the last
	// hour Dialpad would count as routing errors (see dialpad.RoutingHandler).
	ErrorsLastHour int
}

// RejectedTotal returns the sum of Rejected.
func (s HandlerStats) RejectedTotal() int64 { return sum(s.Rejected) }

// FallbackTotal returns the sum of Fallbacks.
func (s HandlerStats) FallbackTotal() int64 { return sum(s.Fallbacks) }

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// HandlerError is what an inbound handler tells its OnError hook: a failure
// after the request was verified (an EventFunc or RouteFunc error or panic,
// a routing or transfer failure, work dropped or refused).
type HandlerError struct {
	Provider string // "justcall", "dialpad", "aircall"
	Handler  string // "webhook", "callback" or "routing"
	CallID   string
	// Event is the event concerned, for event handlers (nil otherwise).
	Event *CallEvent
	// Call is the call concerned, for routing handlers (nil otherwise).
	Call *InboundCall
	Err  error
}

// Error implements error.
func (e *HandlerError) Error() string {
	if e.CallID != "" {
		return fmt.Sprintf("%s %s: call %s: %v", e.Provider, e.Handler, e.CallID, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Provider, e.Handler, e.Err)
}

// Unwrap returns Err.
func (e *HandlerError) Unwrap() error { return e.Err }
