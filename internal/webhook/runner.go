package webhook

import (
	"context"
	"sync"
	"time"
)

// Runner runs acknowledged work in the background with a bound on how much
// may be in flight, so a handler can answer at once and a slow consumer can
// neither grow memory without bound nor leave goroutines behind: each job
// runs in its own goroutine, which ends with the job. It is safe for
// concurrent use.
type Runner struct {
	sem     chan struct{}
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.RWMutex
	closed  bool
}

// NewRunner returns a Runner allowing limit jobs in flight, each given at
// most timeout (zero: no limit) before its context ends.
func NewRunner(limit int, timeout time.Duration) *Runner {
	if limit < 1 {
		limit = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{sem: make(chan struct{}, limit), timeout: timeout, ctx: ctx, cancel: cancel}
}

// TryGo starts fn unless the Runner is full or closed, and reports whether
// it did. A handler answers 503 on false, so the provider redelivers later.
func (r *Runner) TryGo(fn func(ctx context.Context)) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return false
	}
	select {
	case r.sem <- struct{}{}:
	default:
		return false
	}
	r.wg.Add(1)
	go func() {
		defer func() { <-r.sem; r.wg.Done() }()
		ctx, cancel := r.ctx, context.CancelFunc(func() {})
		if r.timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, r.timeout)
		}
		defer cancel()
		// A panicking job must not take the whole server down; handlers
		// count and log their own failures inside fn.
		defer func() { _ = recover() }()
		fn(ctx)
	}()
	return true
}

// InFlight returns the number of jobs running.
func (r *Runner) InFlight() int { return len(r.sem) }

// Wait blocks until no job is running.
func (r *Runner) Wait() { r.wg.Wait() }

// Close stops accepting jobs and waits for the running ones, or for ctx to
// end, in which case the jobs' context is cancelled and Close returns
// ctx.Err() at once: a job that ignores its context cannot hold shutdown.
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
