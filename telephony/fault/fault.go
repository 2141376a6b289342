// Package fault holds Fault, the misbehaviour the provider simulators
// (justcalltest, dialpadtest, aircalltest) inject into their answers. It is
// a package of its own, with no test dependencies, so that a program
// embedding a simulator does not link the testing packages.
package fault

import "time"

// Fault makes the next requests a provider simulator receives misbehave.
// Every simulator takes it, under its own name Fault (justcalltest.Fault,
// dialpadtest.Fault and aircalltest.Fault are this type), in its
// InjectFault method:
//
//	sim.InjectFault(fault.Fault{Method: "POST", Path: "/v1/calls", Status: 503, Times: 2})
//
// Faults apply in the order they were injected: a request takes the first
// one whose Method and Path match it. A faulted request still counts as
// received (the simulators' Count), but a faulted POST is not carried out
// unless the fault is a Delay alone, which stands for a slow server; each
// simulator documents the details (the rate-limit headers of a 429, what
// a Delay does when the client gives up).
type Fault struct {
	// Method is the HTTP method the fault applies to; "" matches any.
	Method string
	// Path is a path prefix the request's path must start with; "" matches
	// any path.
	Path string
	// Status answers with this HTTP status and a provider-shaped error
	// body; 0 answers normally (after Delay).
	Status int
	// Times is how many matching requests the fault applies to; 0 means
	// once.
	Times int
	// RetryAfter is sent as the Retry-After header with Status when set.
	RetryAfter string
	// Delay sleeps before answering (the fault's Status, or the normal
	// answer when Status is 0).
	Delay time.Duration
	// ResetAfterBody reads the whole request body and then drops the
	// connection without answering: "the provider got the request and the
	// answer was lost".
	ResetAfterBody bool
}
