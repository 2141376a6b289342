package webhook

import (
	"context"
	"sync"
)

// Queue runs jobs on a fixed set of workers behind a bounded buffer, so a
// handler can acknowledge at once and a slow consumer cannot grow memory
// without bound. It is safe for concurrent use.
type Queue[T any] struct {
	jobs   chan T
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.RWMutex
	closed bool
}

// NewQueue starts workers goroutines running fn over a buffer of size jobs.
// fn's context ends when Close gives up waiting.
func NewQueue[T any](workers, size int, fn func(ctx context.Context, job T)) *Queue[T] {
	if workers < 1 {
		workers = 1
	}
	if size < 0 {
		size = 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue[T]{jobs: make(chan T, size), ctx: ctx, cancel: cancel}
	q.wg.Add(workers)
	for range workers {
		go func() {
			defer q.wg.Done()
			for job := range q.jobs {
				fn(ctx, job)
			}
		}()
	}
	return q
}

// TryEnqueue adds job without blocking and reports whether it was accepted;
// false means the buffer is full or the queue is closed.
func (q *Queue[T]) TryEnqueue(job T) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return false
	}
	select {
	case q.jobs <- job:
		return true
	default:
		return false
	}
}

// Len returns the number of jobs waiting.
func (q *Queue[T]) Len() int { return len(q.jobs) }

// Close stops accepting jobs and waits for the queued ones to finish, or for
// ctx to end, in which case the workers' context is cancelled and Close
// still waits for them to return.
func (q *Queue[T]) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		<-done
		return ctx.Err()
	}
}
