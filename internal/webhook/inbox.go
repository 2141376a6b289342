package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
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
	// Store holds dedupe keys and, when it has an event log, the durable
	// stream. Nil means state.Default().
	Store *state.Store
	// MaxInFlight bounds in-process work; Timeout bounds one Fn call.
	MaxInFlight int
	Timeout     time.Duration
	// DedupeTTL is how long a delivery key is remembered; zero: 24h.
	DedupeTTL time.Duration
	// RetriesOn5xx: the provider redelivers after a 5xx, so a delivery
	// that cannot be made durable is answered 503. Otherwise it is
	// processed in this process (not durable), logged and counted.
	RetriesOn5xx bool
	// MaxAttempts is how many times a durable event is tried before it
	// is dead-lettered; zero: 5.
	MaxAttempts int
	Logger      *slog.Logger
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
// in the background after the 200: an event is lost if the process dies or
// Fn fails after the answer, which the provider will not redeliver.
type Inbox struct {
	cfg    InboxConfig
	claims state.Claims
	local  state.Claims // stands in for a shared store that is down
	events state.EventLog
	stream string
	runner *Runner
	log    *slog.Logger

	stop     context.CancelFunc
	consumer sync.WaitGroup

	accepted, duplicates, busy, failed, durable, degraded atomic.Int64
}

// InboxStats are an Inbox's counters.
type InboxStats struct {
	Accepted   int64 // events taken in (durably or in process)
	Duplicates int64 // redeliveries dropped
	Busy       int64 // deliveries refused with 503
	Failed     int64 // Fn calls that failed or panicked
	Durable    int64 // events appended to the durable log
	Degraded   int64 // deliveries handled in process because the store failed
	InFlight   int   // in-process Fn calls running now
}

// NewInbox returns an Inbox; with a durable store it starts this
// process's consumer, which Close stops.
func NewInbox(cfg InboxConfig) *Inbox {
	if cfg.DedupeTTL <= 0 {
		cfg.DedupeTTL = DefaultDedupeTTL
	}
	in := &Inbox{
		cfg:    cfg,
		claims: HandlerClaims(cfg.Store),
		local:  state.Memory().Claims(),
		events: state.Or(cfg.Store).Events(),
		stream: cfg.Stream,
		runner: NewRunner(orInt(cfg.MaxInFlight, 64), orDuration(cfg.Timeout, 30*time.Second)),
		log:    cfg.Logger,
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
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

// Outcome is what Take did with a delivery.
type Outcome int

// Outcomes of Take. A handler answers Accepted and Duplicate with 200 and
// Busy with 503, so the provider redelivers later.
const (
	Accepted Outcome = iota
	Duplicate
	Busy
)

// Dispatch takes ev in and answers the delivery with an empty body: 200
// for Accepted and Duplicate, 503 for Busy.
func (in *Inbox) Dispatch(w http.ResponseWriter, r *http.Request, ev telephony.CallEvent, key state.Key, extra ...state.Key) {
	if in.Take(r.Context(), ev, key, extra...) == Busy {
		Error(w, http.StatusServiceUnavailable, "busy, retry later")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Take takes ev in: durable once Append returned (the durable store), or
// deduplicated and started in the background (in process). key identifies
// the delivery; extra keys (for example a replay key) also drop it when
// seen before.
func (in *Inbox) Take(ctx context.Context, ev telephony.CallEvent, key state.Key, extra ...state.Key) Outcome {
	if in.events != nil {
		// Extra keys (replay protection) are claimed here; the delivery
		// key is deduplicated by the consumer, after processing, so a
		// crash before the 200 never turns the redelivery into a
		// "duplicate".
		for i, k := range extra {
			if first, err := in.claim(ctx, k); err == nil && !first {
				in.release(ctx, extra[:i])
				in.duplicates.Add(1)
				return Duplicate
			}
		}
		payload, err := json.Marshal(ev)
		if err == nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			err = in.events.Append(actx, in.stream, key, payload)
			cancel()
			if err == nil {
				in.accepted.Add(1)
				in.durable.Add(1)
				return Accepted
			}
		}
		in.release(ctx, extra) // the in-process path below claims them again
		in.degraded.Add(1)
		if in.cfg.RetriesOn5xx {
			in.busy.Add(1)
			in.log.ErrorContext(ctx, "switchboard: event log unavailable; answered 503 so the provider redelivers",
				"stream", in.stream, "call_id", ev.CallID, "error", err.Error())
			return Busy
		}
		in.log.ErrorContext(ctx, "switchboard: event log unavailable; processing this event in process, not durably",
			"stream", in.stream, "call_id", ev.CallID, "error", err.Error())
	}
	keys := append([]state.Key{key}, extra...)
	for i, k := range keys {
		first, err := in.claim(ctx, k)
		if err == nil && !first {
			in.release(ctx, keys[:i])
			in.duplicates.Add(1)
			return Duplicate
		}
	}
	ok := in.runner.TryGo(func(jctx context.Context) {
		if err := in.call(jctx, ev); err != nil {
			in.failed.Add(1)
			// Already acknowledged: forget the keys so that a redelivery,
			// if one comes, is handled again.
			in.release(jctx, keys)
			in.log.WarnContext(jctx, "switchboard: EventFunc failed", "provider", in.cfg.Provider, "call_id", ev.CallID,
				"type", ev.Type, "error", err.Error())
		}
	})
	if !ok {
		in.release(ctx, keys)
		in.busy.Add(1)
		in.log.WarnContext(ctx, "switchboard: event refused, handler busy or closed", "provider", in.cfg.Provider, "call_id", ev.CallID)
		return Busy
	}
	in.accepted.Add(1)
	return Accepted
}

// claim takes k in the store; when the store fails, in this process's own
// memory (a replica may then handle a redelivery another one handled).
func (in *Inbox) claim(ctx context.Context, k state.Key) (bool, error) {
	first, err := in.claims.Claim(ctx, k, in.cfg.DedupeTTL)
	if err == nil {
		return first, nil
	}
	in.degraded.Add(1)
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
	if err := in.call(ctx, ev); err != nil {
		in.failed.Add(1)
		return err
	}
	return nil
}

// call runs Fn, turning a panic into an error: it runs on a background
// goroutine, where a panic would take the whole server down.
func (in *Inbox) call(ctx context.Context, ev telephony.CallEvent) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
			in.log.ErrorContext(ctx, "switchboard: EventFunc panicked", "provider", in.cfg.Provider, "call_id", ev.CallID,
				"type", ev.Type, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	return in.cfg.Fn(ctx, ev)
}

// Wait blocks until no in-process Fn call is running.
func (in *Inbox) Wait() { in.runner.Wait() }

// Stats returns the counters.
func (in *Inbox) Stats() InboxStats {
	return InboxStats{
		Accepted: in.accepted.Load(), Duplicates: in.duplicates.Load(), Busy: in.busy.Load(),
		Failed: in.failed.Load(), Durable: in.durable.Load(), Degraded: in.degraded.Load(),
		InFlight: in.runner.InFlight(),
	}
}

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
