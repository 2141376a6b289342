package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
)

// Results a handler reports for a request (telephony.Delivery.Result).
const (
	ResultAccepted  = "accepted"
	ResultDuplicate = "duplicate"
	ResultIgnored   = "ignored"
	ResultRejected  = "rejected"
	ResultBusy      = "busy"
	ResultDropped   = "dropped"
	ResultRouted    = "routed"
	ResultFallback  = "fallback"
	ResultFailed    = "failed"
)

// Meter is the counting and reporting every inbound handler shares: one
// per handler. It counts each answered request by its result, tells the
// Observer, reports failures to the log and the OnError hook, and
// snapshots telephony.HandlerStats. It is safe for concurrent use.
type Meter struct {
	Provider, Handler string
	obs               telephony.Observer
	log               *slog.Logger
	onError           func(context.Context, *telephony.HandlerError)

	// Background counters, added to directly.
	Delivered, Failed, Routed, Skipped, Durable, Degraded atomic.Int64

	received, accepted, duplicates, ignored, busy, dropped atomic.Int64

	mu        sync.Mutex
	rejected  map[string]int64
	fallbacks map[string]int64

	// InFlight and ErrorsLastHour, when set, fill those stats.
	InFlight       func() int
	ErrorsLastHour func() int
}

// NewMeter returns a Meter. A nil logger is silent; nil obs and onError
// cost nothing.
func NewMeter(provider, handler string, log *slog.Logger, obs telephony.Observer,
	onError func(context.Context, *telephony.HandlerError)) *Meter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Meter{Provider: provider, Handler: handler, obs: obs, log: log, onError: onError,
		rejected: map[string]int64{}, fallbacks: map[string]int64{}}
}

// Log returns the handler's logger (never nil).
func (m *Meter) Log() *slog.Logger { return m.log }

// Received counts a request; call it first.
func (m *Meter) Received() { m.received.Add(1) }

// Answer counts an answered request by its result and tells the Observer.
// reason is the rejection reason (telephony.Reject*) for ResultRejected;
// decision the fallback cause (or "route") for routing results.
func (m *Meter) Answer(ctx context.Context, start time.Time, result, reason, decision string, status int, callID string, err error) {
	m.Count(result, reason, decision)
	if m.obs != nil {
		m.obs.Delivery(ctx, telephony.Delivery{Provider: m.Provider, Handler: m.Handler, Result: result, Status: status,
			Decision: decision, Latency: time.Since(start), CallID: callID, Err: err})
	}
}

// Count counts a result without telling the Observer: for work done in the
// background, after its request was answered and reported. ResultFailed
// is not counted here: Failed counts failed work where it fails.
func (m *Meter) Count(result, reason, decision string) {
	switch result {
	case ResultAccepted:
		m.accepted.Add(1)
	case ResultDuplicate:
		m.duplicates.Add(1)
	case ResultIgnored:
		m.ignored.Add(1)
	case ResultBusy:
		m.busy.Add(1)
	case ResultDropped:
		m.dropped.Add(1)
	case ResultRouted:
		m.Routed.Add(1)
	case ResultRejected:
		m.mu.Lock()
		m.rejected[reason]++
		m.mu.Unlock()
	case ResultFallback:
		m.mu.Lock()
		m.fallbacks[decision]++
		m.mu.Unlock()
	}
}

// Report logs a failure at error level and tells the OnError hook; a
// panicking hook is logged, never propagated.
func (m *Meter) Report(ctx context.Context, e *telephony.HandlerError) {
	e.Provider, e.Handler = m.Provider, m.Handler
	if e.CallID == "" {
		switch {
		case e.Event != nil:
			e.CallID = e.Event.CallID
		case e.Call != nil:
			e.CallID = e.Call.CallID
		}
	}
	m.log.ErrorContext(ctx, "switchboard: "+m.Provider+" "+m.Handler+" failed", "call_id", e.CallID, "error", e.Err.Error())
	if m.onError == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			m.log.ErrorContext(ctx, "switchboard: OnError hook panicked", "provider", m.Provider, "panic", fmt.Sprint(p))
		}
	}()
	m.onError(ctx, e)
}

// Stats snapshots the counters.
func (m *Meter) Stats() telephony.HandlerStats {
	s := telephony.HandlerStats{
		Received: m.received.Load(), Accepted: m.accepted.Load(), Duplicates: m.duplicates.Load(),
		Ignored: m.ignored.Load(), Delivered: m.Delivered.Load(), Failed: m.Failed.Load(), Routed: m.Routed.Load(),
		Skipped: m.Skipped.Load(), Busy: m.busy.Load(), Dropped: m.dropped.Load(), Durable: m.Durable.Load(),
		Degraded: m.Degraded.Load(),
	}
	m.mu.Lock()
	s.Rejected = make(map[string]int64, len(m.rejected))
	for k, v := range m.rejected {
		s.Rejected[k] = v
	}
	s.Fallbacks = make(map[string]int64, len(m.fallbacks))
	for k, v := range m.fallbacks {
		s.Fallbacks[k] = v
	}
	m.mu.Unlock()
	if m.InFlight != nil {
		s.InFlight = m.InFlight()
	}
	if m.ErrorsLastHour != nil {
		s.ErrorsLastHour = m.ErrorsLastHour()
	}
	return s
}
