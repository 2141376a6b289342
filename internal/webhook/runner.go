package webhook

import (
	"context"
	"sync"
	"time"
)

// Runner runs acknowledged work in the background with a bound on how much
// may be in flight, so a handler can answer at once and a slow consumer can
// neither grow memory without bound nor leave goroutines behind: each job
// runs in its own goroutine, which ends with the job. Optionally, a bounded
// number of jobs may wait for a slot. It is safe for concurrent use.
type Runner struct {
	sem     chan struct{} // running jobs
	admit   chan struct{} // running and waiting jobs
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.RWMutex
	closed  bool
}

// NewRunner returns a Runner allowing limit jobs in flight, each given at
// most timeout (zero: no limit) before its context ends.
func NewRunner(limit int, timeout time.Duration) *Runner { return NewQueuedRunner(limit, 0, timeout) }

// NewQueuedRunner is NewRunner with up to queue more jobs waiting for a
// slot (their timeout starts when they start).
func NewQueuedRunner(limit, queue int, timeout time.Duration) *Runner {
	if limit < 1 {
		limit = 1
	}
	if queue < 0 {
		queue = 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{sem: make(chan struct{}, limit), admit: make(chan struct{}, limit+queue), timeout: timeout,
		ctx: ctx, cancel: cancel}
}

// jobContext is the context of a job started from a request: it keeps the
// request's values (trace ids, request-scoped data) but not its
// cancellation, since the job outlives the answer; Close still cancels it.
func (r *Runner) jobContext(parent context.Context) (context.Context, context.CancelFunc) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stop := context.AfterFunc(r.ctx, cancel)
	if r.timeout > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeout(ctx, r.timeout)
		return ctx, func() { cancelT(); stop(); cancel() }
	}
	return ctx, func() { stop(); cancel() }
}

// TryGo starts fn unless the Runner (with its queue) is full or closed, and
// reports whether it did. fn's context keeps parent's values (see
// context.WithoutCancel); it ends with the timeout or when Close gives up
// waiting.
func (r *Runner) TryGo(parent context.Context, fn func(ctx context.Context)) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return false
	}
	select {
	case r.admit <- struct{}{}:
	default:
		return false
	}
	r.wg.Add(1)
	go func() {
		defer func() { <-r.admit; r.wg.Done() }()
		r.sem <- struct{}{}
		defer func() { <-r.sem }()
		ctx, cancel := r.jobContext(parent)
		defer cancel()
		// A panicking job must not take the whole server down; handlers
		// count and log their own failures inside fn.
		defer func() { _ = recover() }()
		fn(ctx)
	}()
	return true
}

// Run runs fn in the caller's goroutine once a slot is free (waiting at
// most until parent ends), with parent's context bounded by the timeout
// and cancelled when Close gives up waiting. It reports false, without
// running fn, when the Runner is closed or parent ended first. A panic in
// fn propagates to the caller.
func (r *Runner) Run(parent context.Context, fn func(ctx context.Context)) bool {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return false
	}
	r.wg.Add(1)
	r.mu.RUnlock()
	defer r.wg.Done()
	select {
	case r.admit <- struct{}{}:
	case <-parent.Done():
		return false
	}
	defer func() { <-r.admit }()
	select {
	case r.sem <- struct{}{}:
	case <-parent.Done():
		return false
	}
	defer func() { <-r.sem }()
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stop := context.AfterFunc(r.ctx, cancel)
	defer stop()
	if r.timeout > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeout(ctx, r.timeout)
		defer cancelT()
	}
	fn(ctx)
	return true
}

// InFlight returns the number of jobs running.
func (r *Runner) InFlight() int { return len(r.sem) }

// Wait blocks until no job is running or waiting.
func (r *Runner) Wait() { r.wg.Wait() }

// Close stops accepting jobs and waits for the running and waiting ones, or
// for ctx to end, in which case the jobs' context is cancelled and Close
// returns ctx.Err() at once: a job that ignores its context cannot hold
// shutdown.
func (r *Runner) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		return ctx.Err()
	}
}
