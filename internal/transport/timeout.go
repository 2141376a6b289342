package transport

import (
	"context"
	"io"
	"net/http"
	"time"
)

// attemptTimeout enforces http.Client.Timeout per attempt with a context
// deadline, and only when the request's context does not already end
// sooner. It replaces the client's own Timeout, which arms a timer, a
// cancel channel and a goroutine on every request even when the caller's
// deadline is nearer; here a caller with a deadline within the timeout pays
// nothing, and a caller without one pays one context.WithTimeout. As with
// Client.Timeout, the deadline covers connecting, writing, waiting for the
// headers and reading the body; it ends when the body is closed. A request
// without a caller deadline still cannot hang forever.
type attemptTimeout struct {
	next http.RoundTripper
	d    time.Duration
}

func (t *attemptTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	if dl, ok := parent.Deadline(); ok && time.Until(dl) <= t.d {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithTimeout(parent, t.d)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		timedOut := ctx.Err() != nil && parent.Err() == nil
		cancel()
		if timedOut {
			return nil, &clientTimeoutError{d: t.d, err: err}
		}
		return nil, err
	}
	resp.Body = &timeoutBody{ReadCloser: resp.Body, ctx: ctx, parent: parent, cancel: cancel, d: t.d}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport.
func (t *attemptTimeout) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// timeoutBody ends the attempt's deadline when the body is closed, and
// names a read cut by it.
type timeoutBody struct {
	io.ReadCloser
	ctx, parent context.Context
	cancel      context.CancelFunc
	d           time.Duration
}

func (b *timeoutBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil && b.parent.Err() == nil {
		err = &clientTimeoutError{d: b.d, err: err}
	}
	return n, err
}

func (b *timeoutBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// clientTimeoutError is an attempt cut by the client's timeout. It is a
// net.Error with Timeout() true and matches context.DeadlineExceeded.
type clientTimeoutError struct {
	d   time.Duration
	err error
}

func (e *clientTimeoutError) Error() string {
	return "no complete answer within the http.Client.Timeout of " + e.d.String() + " (Client.Timeout exceeded)"
}
func (e *clientTimeoutError) Timeout() bool   { return true }
func (e *clientTimeoutError) Temporary() bool { return true }
func (e *clientTimeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded
}
func (e *clientTimeoutError) Unwrap() error { return e.err }
