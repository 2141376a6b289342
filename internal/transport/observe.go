package transport

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
)

// record is what an operation tells its Observer and its ResponseMeta:
// kept only when one of them asked, so a plain call pays nothing.
type record struct {
	obs         telephony.Observer
	op          telephony.Operation
	ctx         context.Context // the operation's context, for attempt spans
	endAttempt  func(telephony.AttemptResult)
	limiterWait time.Duration
	retryWait   time.Duration
	rate        telephony.RateLimitState
	requestID   string
}

// Do sends req and decodes the answer into req.Out; see do. It reports the
// operation to the client's Observer and fills a ResponseMeta the caller
// put in ctx (telephony.WithResponseMeta).
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	obs, meta := c.s.Observer, telephony.ResponseMetaFrom(ctx)
	if obs == nil && meta == nil {
		return c.do(ctx, req, nil)
	}
	rec := &record{obs: obs, op: telephony.Operation{Provider: c.provider, Name: req.Method + " " + req.route()}}
	var end func(telephony.OperationResult)
	if obs != nil {
		ctx, end = obs.StartOperation(ctx, rec.op)
	}
	rec.ctx = ctx
	resp, err := c.do(ctx, req, rec)
	rec.finishAttempt(nil, err)
	res := telephony.OperationResult{RateLimit: rec.rate, LimiterWait: rec.limiterWait, RetryWait: rec.retryWait,
		RequestID: rec.requestID, Err: err}
	if resp != nil {
		res.StatusCode, res.Attempts, res.RequestID = resp.StatusCode, resp.Attempts, resp.RequestID
	}
	var te *telephony.Error
	if errors.As(err, &te) {
		res.StatusCode, res.Attempts = te.StatusCode, te.Attempts
		if te.RequestID != "" {
			res.RequestID = te.RequestID
		}
	}
	if meta != nil {
		*meta = telephony.ResponseMeta{StatusCode: res.StatusCode, RequestID: res.RequestID, Attempts: res.Attempts, RateLimit: res.RateLimit}
	}
	if end != nil {
		end(res)
	}
	return resp, err
}

// startAttempt opens attempt n's span, closing the previous one.
func (r *record) startAttempt(n int) {
	if r == nil || r.obs == nil {
		return
	}
	r.finishAttempt(nil, nil)
	_, r.endAttempt = r.obs.StartAttempt(r.ctx, r.op, n)
}

// finishAttempt closes the open attempt span, if any.
func (r *record) finishAttempt(resp *http.Response, err error) {
	if r == nil || r.endAttempt == nil {
		return
	}
	res := telephony.AttemptResult{Err: err}
	if resp != nil {
		res.StatusCode = resp.StatusCode
	}
	r.endAttempt(res)
	r.endAttempt = nil
}

// answered notes what an attempt's answer said.
func (r *record) answered(c *Client, resp *http.Response, err error) {
	if r == nil {
		return
	}
	r.finishAttempt(resp, err)
	if resp == nil {
		return
	}
	if id := c.requestID(resp.Header); id != "" {
		r.requestID = id
	}
	if st, ok := c.rateState(resp.Header); ok {
		r.rate = st
	}
}

// waited adds a limiter wait (d) or a backoff (retry) to the record.
func (r *record) waited(d time.Duration, retry bool) {
	if r == nil {
		return
	}
	if retry {
		r.retryWait += d
	} else {
		r.limiterWait += d
	}
}

// rateState reads the first rate-limit header set the answer carries.
func (c *Client) rateState(h http.Header) (telephony.RateLimitState, bool) {
	now := time.Now()
	for _, w := range c.rateHeaders {
		rem, ok := atoiHeader(h.Get(w.Remaining))
		if !ok {
			continue
		}
		st := telephony.RateLimitState{Known: true, Remaining: rem}
		if w.Limit != "" {
			st.Limit, _ = atoiHeader(h.Get(w.Limit))
		}
		if w.Reset != "" {
			if d, ok := ParseReset(h.Get(w.Reset), now); ok {
				st.Reset = now.Add(d)
			}
		}
		return st, true
	}
	return telephony.RateLimitState{}, false
}
