package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// InboxConfig configures an Inbox.
type InboxConfig struct {
	// Provider and Name name the event stream: "<provider>:<name>"
	// unless Stream is set.
	Provider, Name, Stream string
	Fn                     telephony.EventFunc
	// Meter counts and reports (its Provider and Handler name the
	// handler). Required.
	Meter *Meter
	// Store holds dedupe keys and, when it has an event log, the durable
	// stream. Nil means state.Default().
	Store *state.Store
	// MaxInFlight bounds in-process work; Timeout bounds one Fn call.
	MaxInFlight int
	Timeout     time.Duration
	// Queue is how many more in-process events may wait for a slot.
	Queue int
	// DedupeTTL is how long a delivery key is remembered; zero: 24h.
	DedupeTTL time.Duration
	// RetriesOn5xx: the provider redelivers after a 5xx, so a delivery
	// that cannot be made durable is answered 503. Otherwise it is
	// processed in this process (not durable), logged and counted.
	RetriesOn5xx bool
	// NeverRefuse: the provider must get 200 for every genuine delivery
	// (Aircall): work that does not fit, or arrives after Close, is
	// dropped (counted, logged, reported) instead of answered 503.
	NeverRefuse bool
	// Sync runs Fn in the request and answers after it returned: 200 on
	// success, 500 on failure (the dedupe keys released, so that a
	// redelivery is processed). The event log is not used: the provider's
	// redelivery is the retry.
	Sync bool
	// MaxAttempts is how many times a durable event is tried before it
	// is dead-lettered; zero: 5.
	MaxAttempts int
	// Ack writes a 200 answer for a result; nil writes an empty 200.
	Ack func(w http.ResponseWriter, result string)
}

// Inbox is the acknowledge-then-process path of the event handlers.
//
// With a store that has an event log (Redis), a verified event is appended
// to a stream before the provider gets its 200; a consumer in every
// replica runs Fn, acknowledges on success, retries with backoff, claims
// what a dead replica held and dead-letters after MaxAttempts: at-least-once
// processing, deduplicated by the delivery key, across crashes.
//
// With the memory store, a delivery is deduplicated in process and Fn runs
// in the background after the 200, with the request's context values: an
// event is lost if the process dies or Fn fails after the answer, which the
// provider will not redeliver. In Sync mode Fn runs before the answer.
type Inbox struct {
	cfg    InboxConfig
	m      *Meter
	claims state.Claims
	local  state.Claims // stands in for a shared store that is down
	events state.EventLog
	stream string
	runner *Runner
	log    *slog.Logger

	stop     context.CancelFunc
	consumer sync.WaitGroup
}

// NewInbox returns an Inbox; with a durable store it starts this
// process's consumer, which Close stops.
func NewInbox(cfg InboxConfig) *Inbox {
	if cfg.DedupeTTL <= 0 {
		cfg.DedupeTTL = DefaultDedupeTTL
	}
	if cfg.Meter == nil {
		cfg.Meter = NewMeter(cfg.Provider, cfg.Name, nil, nil, nil)
	}
	in := &Inbox{
		cfg:    cfg,
		m:      cfg.Meter,
		claims: HandlerClaims(cfg.Store),
		local:  state.Memory().Claims(),
		events: state.Or(cfg.Store).Events(),
		stream: cfg.Stream,
		runner: NewQueuedRunner(orInt(cfg.MaxInFlight, 64), cfg.Queue, orDuration(cfg.Timeout, 30*time.Second)),
		log:    cfg.Meter.Log(),
	}
	if cfg.Sync {
		in.events = nil
	}
	if in.stream == "" {
		in.stream = cfg.Provider + ":" + cfg.Name
	}
	if in.events != nil {
		ctx, cancel := context.WithCancel(context.Background())
		in.stop = cancel
		in.consumer.Add(1)
		go func() {
			defer in.consumer.Done()
			_ = in.events.Consume(ctx, in.stream, in.consume, state.ConsumeOptions{
				MaxAttempts: cfg.MaxAttempts,
				OnError: func(ctx context.Context, err error) {
					in.log.WarnContext(ctx, "switchboard: durable event processing", "stream", in.stream, "error", err.Error())
				},
			})
		}()
	}
	return in
}

// Durable reports whether events go through a durable log.
func (in *Inbox) Durable() bool { return in.events != nil }

// Stream names the durable stream (also used for dead letters).
func (in *Inbox) Stream() string { return in.stream }

// InFlight returns the in-process Fn calls running now.
func (in *Inbox) InFlight() int { return in.runner.InFlight() }

// Outcome is what Take did with a delivery.
type Outcome int

// Outcomes of Take. A handler answers Accepted, Duplicate and Dropped with
// 200, Busy with 503 (the provider redelivers later) and Failed (Sync
// mode) with 500.
const (
	Accepted Outcome = iota
	Duplicate
	Busy
	Dropped
	Failed
)

// Dispatch takes ev in, answers the delivery and counts the answer: 200
// (through Ack) for Accepted, Duplicate and Dropped, 503 for Busy, 500 for
// Failed.
func (in *Inbox) Dispatch(w http.ResponseWriter, r *http.Request, start time.Time, ev telephony.CallEvent, key state.Key, extra ...state.Key) {
	out, err := in.Take(r.Context(), ev, key, extra...)
	result, status := ResultAccepted, http.StatusOK
	switch out {
	case Duplicate:
		result = ResultDuplicate
	case Dropped:
		result = ResultDropped
	case Busy:
		result, status = ResultBusy, http.StatusServiceUnavailable
	case Failed:
		result, status = ResultFailed, http.StatusInternalServerError
	}
	switch {
	case status == http.StatusServiceUnavailable:
		Error(w, status, "busy, retry later")
	case status != http.StatusOK:
		Error(w, status, "event not processed, retry later")
	case in.cfg.Ack != nil:
		in.cfg.Ack(w, result)
	default:
		w.WriteHeader(http.StatusOK)
	}
	in.m.Answer(r.Context(), start, result, "", "", status, ev.CallID, err)
}

// Take takes ev in: durable once Append returned (the durable store),
// processed (Sync), or deduplicated and started in the background (in
// process). key identifies the delivery; extra keys (for example a replay
// key) also drop it when seen before. The error says why an event was
// refused, dropped or failed.
func (in *Inbox) Take(ctx context.Context, ev telephony.CallEvent, key state.Key, extra ...state.Key) (Outcome, error) {
	if in.events != nil {
		// Extra keys (replay protection) are claimed here; the delivery
		// key is deduplicated by the consumer, after processing, so a
		// crash before the 200 never turns the redelivery into a
		// "duplicate".
		for i, k := range extra {
			if first, err := in.claim(ctx, k); err == nil && !first {
				in.release(ctx, extra[:i])
				return Duplicate, nil
			}
		}
		payload, err := json.Marshal(ev)
		if err == nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			err = in.events.Append(actx, in.stream, key, payload)
			cancel()
			if err == nil {
				in.m.Durable.Add(1)
				return Accepted, nil
			}
		}
		in.release(ctx, extra) // the in-process path below claims them again
		in.m.Degraded.Add(1)
		if in.cfg.RetriesOn5xx {
			in.log.ErrorContext(ctx, "switchboard: event log unavailable; answered 503 so the provider redelivers",
				"stream", in.stream, "call_id", ev.CallID, "error", err.Error())
			return Busy, err
		}
		in.log.ErrorContext(ctx, "switchboard: event log unavailable; processing this event in process, not durably",
			"stream", in.stream, "call_id", ev.CallID, "error", err.Error())
	}
	keys := append([]state.Key{key}, extra...)
	for i, k := range keys {
		first, err := in.claim(ctx, k)
		if err == nil && !first {
			in.release(ctx, keys[:i])
			return Duplicate, nil
		}
	}
	if in.cfg.Sync {
		var err error
		if !in.runner.Run(ctx, func(jctx context.Context) { err = in.call(jctx, ev) }) {
			in.release(ctx, keys)
			return in.refuse(ctx, ev, "handler closed, or the request ended while waiting for a slot")
		}
		if err != nil {
			in.release(ctx, keys) // the provider's redelivery is processed again
			return Failed, err
		}
		return Accepted, nil
	}
	ok := in.runner.TryGo(ctx, func(jctx context.Context) {
		if in.call(jctx, ev) != nil {
			// Already acknowledged: forget the keys so that a redelivery,
			// if one comes, is handled again.
			in.release(jctx, keys)
		}
	})
	if !ok {
		in.release(ctx, keys)
		return in.refuse(ctx, ev, "handler busy (MaxInFlight) or closed")
	}
	return Accepted, nil
}

// refuse is the answer to an event that cannot be taken in: Busy (503)
// for a provider that redelivers, Dropped (200, reported) for one that
// must not be refused.
func (in *Inbox) refuse(ctx context.Context, ev telephony.CallEvent, why string) (Outcome, error) {
	if in.cfg.NeverRefuse {
		err := errors.New("event dropped: " + why)
		in.m.Report(ctx, &telephony.HandlerError{Event: &ev, Err: err})
		return Dropped, err
	}
	err := errors.New("event refused with 503: " + why)
	in.m.Report(ctx, &telephony.HandlerError{Event: &ev, Err: err})
	return Busy, err
}

// claim takes k in the store; when the store fails, in this process's own
// memory (a replica may then handle a redelivery another one handled).
func (in *Inbox) claim(ctx context.Context, k state.Key) (bool, error) {
	// Not bound to the request: a client that left must not look like a
	// store failure.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	first, err := in.claims.Claim(cctx, k, in.cfg.DedupeTTL)
	if err == nil {
		return first, nil
	}
	in.m.Degraded.Add(1)
	in.log.WarnContext(ctx, "switchboard: dedupe store unavailable; deduplicating in process", "error", err.Error())
	return in.local.Claim(ctx, k, in.cfg.DedupeTTL)
}

func (in *Inbox) release(ctx context.Context, keys []state.Key) {
	for _, k := range keys {
		_ = in.claims.Release(context.WithoutCancel(ctx), k)
		_ = in.local.Release(ctx, k)
	}
}

// consume is the durable path's handler: one entry of the stream.
func (in *Inbox) consume(ctx context.Context, payload []byte) error {
	var ev telephony.CallEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("undecodable event in stream %s: %w", in.stream, err)
	}
	ctx, cancel := context.WithTimeout(ctx, orDuration(in.cfg.Timeout, 30*time.Second))
	defer cancel()
	return in.call(ctx, ev)
}

// call runs Fn, counts its result and reports a failure, turning a panic
// into an error: it runs on a background goroutine, where a panic would
// take the whole server down.
func (in *Inbox) call(ctx context.Context, ev telephony.CallEvent) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("EventFunc panic: %v", p)
			in.log.ErrorContext(ctx, "switchboard: EventFunc panicked", "provider", in.cfg.Provider, "call_id", ev.CallID,
				"type", ev.Type, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
		if err != nil {
			in.m.Failed.Add(1)
			in.m.Report(ctx, &telephony.HandlerError{Event: &ev, Err: err})
		} else {
			in.m.Delivered.Add(1)
		}
	}()
	return in.cfg.Fn(ctx, ev)
}

// Wait blocks until no in-process Fn call is running.
func (in *Inbox) Wait() { in.runner.Wait() }

// Close stops accepting in-process work and this process's durable
// consumer, and waits for both, or for ctx to end.
func (in *Inbox) Close(ctx context.Context) error {
	if in.stop != nil {
		in.stop()
		done := make(chan struct{})
		go func() { in.consumer.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			_ = in.runner.Close(ctx)
			return ctx.Err()
		}
	}
	return in.runner.Close(ctx)
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDuration(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// HandlerClaims returns the claims a handler given st uses: st's, or the
// default store's when st is nil; but a handler left on the default memory
// store gets claims of its own, so that two handlers of one process never
// drop each other's deliveries (as before the state seam). A shared
// store's claims are shared on purpose: by every replica.
func HandlerClaims(st *state.Store) state.Claims {
	if st == nil && state.Default().Name() == "memory" {
		return state.Memory().Claims()
	}
	return state.Or(st).Claims()
}
