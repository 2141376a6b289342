package webhook

import (
	"context"
	"fmt"
	"time"
)

// ErrLate is returned by Within when f did not return in time.
var ErrLate = fmt.Errorf("did not return in time: %w", context.DeadlineExceeded)

// Within runs f with a context that ends after d and returns its result,
// or ErrLate as soon as d has passed even if f ignores its context: f then
// goes on in its goroutine, its result dropped, and the caller is free. A
// panic in f is returned as an error.
func Within[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1) // buffered: a late f never blocks
	go func() {
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				ch <- result{err: fmt.Errorf("panic: %v", p)}
			}
		}()
		v, err := f(ctx)
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		// f may have finished at the same moment: prefer its answer.
		select {
		case r := <-ch:
			return r.v, r.err
		default:
		}
		var zero T
		if context.Cause(ctx) == context.Canceled {
			return zero, ctx.Err()
		}
		return zero, ErrLate
	}
}
