// Package simfault is the fault injection shared by the provider
// simulators (justcalltest, dialpadtest, aircalltest): a queue of faults
// matched by method and path prefix, and the connection drop that stands
// for "the provider read the request and the answer was lost".
package simfault

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/telephony/fault"
)

// Fault makes the next matching requests misbehave. It is the public
// fault.Fault, whose godoc lists its fields, so that the
// simulators' Fault shows them; a faulted request still counts as
// received; a faulted POST is not carried out unless the fault is a Delay
// alone (a slow server), as each simulator documents.
type Fault = fault.Fault

// Queue holds injected faults, applied in the order injected. The zero
// value is ready; it is safe for concurrent use.
type Queue struct {
	mu     sync.Mutex
	faults []*queued
}

type queued struct {
	Fault
	left int
}

// Inject queues f.
func (q *Queue) Inject(f Fault) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := f.Times
	if n <= 0 {
		n = 1
	}
	q.faults = append(q.faults, &queued{Fault: f, left: n})
}

// Take returns the first fault matching the request and uses it up, or nil.
func (q *Queue) Take(method, path string) *Fault {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.faults {
		if (f.Method == "" || f.Method == method) && strings.HasPrefix(path, f.Path) {
			f.left--
			if f.left <= 0 {
				q.faults = append(q.faults[:i:i], q.faults[i+1:]...)
			}
			cp := f.Fault
			return &cp
		}
	}
	return nil
}

// Drop reads the rest of the request body and closes the connection
// without an answer.
func Drop(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // drops the connection without hijacking
}

// Sleep waits d, or until the client goes away or closing is closed. It
// reports why it returned early, if it did.
func Sleep(d time.Duration, r *http.Request, closing <-chan struct{}) (clientGone, closed bool) {
	if d <= 0 {
		return false, false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false, false
	case <-r.Context().Done():
		return true, false
	case <-closing:
		return false, true
	}
}

// Counter tallies the requests a simulator received, by method and path.
// The zero value is ready; it is safe for concurrent use.
type Counter struct {
	mu   sync.Mutex
	seen []struct{ method, path string }
}

// Add records one request.
func (c *Counter) Add(method, path string) {
	c.mu.Lock()
	c.seen = append(c.seen, struct{ method, path string }{method, path})
	c.mu.Unlock()
}

// Count returns how many requests with this method ("" for any) and a path
// starting with pathPrefix were recorded.
func (c *Counter) Count(method, pathPrefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.seen {
		if (method == "" || r.method == method) && strings.HasPrefix(r.path, pathPrefix) {
			n++
		}
	}
	return n
}
