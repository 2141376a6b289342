package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/switchboard-go/switchboard/telephony"
)

// attempt is the state of one logical operation across its attempts. The
// retryablehttp hooks are its methods, so each operation's decisions see
// only its own requests.
type attempt struct {
	c          *Client
	method     string
	route      string // the operation is method + " " + route (built only when needed)
	idempotent bool
	ct         httptrace.ClientTrace

	attempts   int
	wrote      atomic.Bool // this attempt wrote (part of) the request
	dialFailed atomic.Bool // this attempt failed to connect
	gotConn    atomic.Bool // this attempt obtained a connection
	status     int         // last status seen
	lastErr    error       // last transport error seen
	nextWait   time.Duration
	retryAfter time.Duration
	noBudget   bool
	debug      bool // the logger wants debug records
	// pastDeadline: retrying would have meant waiting past ctx's deadline.
	pastDeadline bool
	rec          *record // the Observer's and ResponseMeta's record; nil when none asked
}

func (a *attempt) opName() string { return a.method + " " + a.route }

// trace returns the hooks that tell "nothing written" from "sent", kept in
// the attempt itself (one allocation less per request).
func (a *attempt) trace() *httptrace.ClientTrace {
	a.ct = httptrace.ClientTrace{
		// Called once the request was written, or failed part-way: either
		// way the provider may have it.
		WroteRequest: func(httptrace.WroteRequestInfo) { a.wrote.Store(true) },
		// A connection was had: even if a racing dial failed, the request
		// may have gone out on this one.
		GotConn: func(httptrace.GotConnInfo) { a.gotConn.Store(true) },
		// No DNS or connect hooks: they make net/http build a second,
		// lower-level trace on every request. A failed dial shows in the
		// attempt's error instead (noteError).
	}
	return &a.ct
}

// noteError records what the last attempt's error says: a failed dial (DNS
// or connect) reached no server.
func (a *attempt) noteError(err error) {
	if err != nil && isDialError(err) {
		a.dialFailed.Store(true)
	}
}

// isDialError reports whether err is a failure to resolve or connect, with
// nothing sent: net's *OpError for the "dial" operation, or a DNS error.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// notSent reports that the last attempt provably reached no server: a
// connection could not be made and nothing was written.
func (a *attempt) notSent() bool {
	return a.dialFailed.Load() && !a.gotConn.Load() && !a.wrote.Load()
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt { return ctx.Value(attemptKey{}).(*attempt) }

// The retryablehttp hooks, shared by every operation of a Client: each finds
// its operation's attempt in the request context.

func beforeAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	a := attemptFrom(req.Context())
	a.attempts = i + 1
	a.rec.startAttempt(a.attempts)
	a.status = 0
	a.wrote.Store(false)
	a.dialFailed.Store(false)
	a.gotConn.Store(false)
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	a := attemptFrom(ctx)
	a.rec.answered(a.c, resp, err)
	return a.checkRetry(ctx, resp, err)
}

// noBackoff leaves the wait to prepareRetry: Backoff cannot see the
// request context when no response arrived.
func noBackoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return 0 }

// prepareRetry sleeps the wait checkRetry chose, then waits for the
// account's gate and limiter, exactly as before the first attempt.
func prepareRetry(req *http.Request) error {
	ctx := req.Context()
	a := attemptFrom(ctx)
	start := time.Now()
	err := sleep(ctx, a.nextWait)
	a.rec.waited(time.Since(start), true)
	if err != nil {
		return err
	}
	start = time.Now()
	err = a.c.account.wait(ctx, a.c.s.MaxRetryWait)
	a.rec.waited(time.Since(start), false)
	return err
}

// errorHandler keeps retryablehttp's "giving up after N attempts" away from
// users: a transport failure is returned as is, a final response is passed
// through for fail to turn into a typed error.
func errorHandler(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil {
			drain(resp.Body)
		}
		return nil, err
	}
	return resp, nil
}

// checkRetry is the retry policy: a request that can ring a
// phone is sent again only after a 429 or when nothing was written; reads
// and deletes also retry connection errors and 502/503/504. Every retry
// spends the account's retry budget.
func (a *attempt) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	now := time.Now()
	if err != nil {
		a.noteError(err)
		a.lastErr = err
		if a.debug {
			a.log(ctx, "attempt failed", slogErr(err))
		}
		if ctx.Err() != nil {
			return false, err
		}
		if !retryableTransportError(err) {
			return false, err
		}
		if !a.idempotent && !a.notSent() {
			return false, err
		}
		cost := budgetRetryCost
		if isTimeout(err) {
			cost = budgetTimeoutCost
		}
		return a.retry(ctx, cost, a.jitter(), err)
	}
	a.status = resp.StatusCode
	exhausted, found := a.c.observe(ctx, resp.Header)
	if a.debug {
		a.log(ctx, "attempt answered", "status", resp.StatusCode)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		wait, ok := ParseRetryAfter(header(resp.Header, "Retry-After"), now)
		if !ok && found {
			wait, ok = exhausted, true
		}
		if !ok {
			wait = a.jitter()
		}
		a.retryAfter = wait
		if wait > a.c.s.MaxRetryWait {
			return false, nil
		}
		if exceedsDeadline(ctx, wait) {
			a.pastDeadline = true
			return false, nil
		}
		// Everyone on this account waits, not just this caller.
		a.c.account.Block(ctx, wait)
		return a.retry(ctx, budgetRetryCost, wait, nil)
	case !a.idempotent:
		return false, nil
	case s == http.StatusBadGateway || s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout:
		wait := a.jitter()
		if s == http.StatusServiceUnavailable {
			if ra, ok := ParseRetryAfter(header(resp.Header, "Retry-After"), now); ok {
				a.retryAfter = ra
				if ra > a.c.s.MaxRetryWait {
					return false, nil
				}
				wait = ra
			}
		}
		if exceedsDeadline(ctx, wait) {
			a.pastDeadline = true
			return false, nil
		}
		return a.retry(ctx, budgetRetryCost, wait, nil)
	}
	return false, nil
}

func (a *attempt) retry(ctx context.Context, cost int, wait time.Duration, err error) (bool, error) {
	if a.attempts >= a.c.s.MaxAttempts || ctx.Err() != nil {
		return false, err
	}
	if !a.c.account.budget.take(cost) {
		a.noBudget = true
		return false, err
	}
	a.nextWait = wait
	if a.debug {
		a.log(ctx, "retrying", "wait", wait)
	}
	return true, nil
}

func (a *attempt) jitter() time.Duration {
	return Backoff(a.c.s.RetryBaseWait, a.c.s.RetryMaxWait, a.attempts-1)
}

func (a *attempt) log(ctx context.Context, msg string, args ...any) {
	a.c.log.DebugContext(ctx, msg, append([]any{"provider", a.c.provider, "op", a.opName(), "attempt", a.attempts}, args...)...)
}

func slogErr(err error) slog.Attr { return slog.String("error", redactedError(err)) }

// redactedError is err's text without the request URL that *url.Error adds.
func redactedError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

func retryableTransportError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &certErr) || errors.As(err, &unknownCA) {
		return false
	}
	s := err.Error()
	for _, bad := range []string{"unsupported protocol scheme", "invalid header", "stopped after", "certificate is not trusted"} {
		if strings.Contains(s, bad) {
			return false
		}
	}
	return true
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// fail turns the end of an operation into a *telephony.Error: from the final
// response when there is one, else from err.
func (a *attempt) fail(ctx context.Context, resp *http.Response, err error) error {
	e := &telephony.Error{Provider: a.c.provider, Op: a.opName(), Attempts: a.attempts}
	if resp != nil {
		a.fromResponse(e, resp)
		a.c.log.WarnContext(ctx, "request failed", "provider", a.c.provider, "op", a.opName(), "status", e.StatusCode, "attempts", e.Attempts)
		return e
	}
	var te *telephony.Error
	if errors.As(err, &te) {
		return te
	}
	var wl *errWaitTooLong
	switch {
	case errors.As(err, &wl):
		e.Kind, e.RetryAfter = telephony.ErrRateLimited, wl.wait
		e.StatusCode = a.status
		e.Message = wl.Error() + "; nothing more was sent"
		if wl.deadline {
			e.Err = context.DeadlineExceeded
		}
	case ctx.Err() != nil:
		e.Err = ctx.Err()
		switch {
		case a.status != 0:
			// The last attempt was answered (a 429, say): nothing is in
			// flight, and the answer says what the provider did.
			e.Kind, e.StatusCode = telephony.KindForStatus(a.status), a.status
			e.Message = "the context ended while waiting to retry"
		case !a.idempotent && a.attempts > 0 && !a.notSent():
			// net/http may return on the cancellation before its write
			// goroutine reported the write: unless the connection provably
			// failed, the request may be at the provider.
			e.Kind = telephony.ErrOutcomeUnknown
			e.Message = "the context ended after the request was sent; it may have been carried out, check before sending it again"
		default:
			e.Kind = telephony.ErrUnavailable
			e.Message = "the context ended before the provider answered"
		}
	case !a.idempotent && !a.notSent():
		e.Kind, e.Err = telephony.ErrOutcomeUnknown, unwrapURL(err)
		e.Message = "the request was sent but no answer arrived; it was not sent again and may or may not have been carried out (a call may ring): check the provider before retrying"
	case a.notSent():
		e.Kind, e.Err = telephony.ErrUnavailable, unwrapURL(err)
		e.Message = "could not connect: no request reached the provider"
	default:
		e.Kind, e.Err = telephony.ErrUnavailable, unwrapURL(err)
		e.Message = "request failed"
	}
	a.c.log.WarnContext(ctx, "request failed", "provider", a.c.provider, "op", a.opName(), "kind", errString(e.Kind), "attempts", e.Attempts)
	return e
}

func (a *attempt) fromResponse(e *telephony.Error, resp *http.Response) {
	defer drain(resp.Body)
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	// A provider or proxy may echo the request's Authorization value: no
	// credential stays in the message, the body or the request id.
	data = a.c.scrubBytes(data)
	e.StatusCode = resp.StatusCode
	e.RequestID = a.c.requestID(resp.Header)
	e.Kind = telephony.KindForStatus(resp.StatusCode)
	e.Message = a.c.errorMessage(data)
	if len(data) > maxErrorSnippet {
		data = data[:maxErrorSnippet]
	}
	e.Body = data
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		e.RetryAfter = a.retryAfter
		if e.RetryAfter == 0 {
			e.RetryAfter, _ = ParseRetryAfter(header(resp.Header, "Retry-After"), time.Now())
		}
	case s >= 500 && !a.idempotent:
		e.Kind = telephony.ErrOutcomeUnknown
		e.Message = "the provider answered " + strconv.Itoa(s) + " after receiving the request; it was not sent again and may or may not have been carried out (a call may ring): check the provider before retrying. Provider said: " + e.Message
	case s >= 300 && s < 400:
		e.Kind = telephony.ErrBadResponse
		e.Message = "unexpected redirect (not followed): check the base URL"
	}
	if a.noBudget {
		e.Message += " (retries stopped: the account's retry budget is spent)"
	}
	if a.pastDeadline {
		e.Message += " (not retried: the wait would pass the context deadline)"
		e.Err = context.DeadlineExceeded
	}
}

// unusable is the error for a 2xx answer that cannot be used: its body
// could not be read (cause is the read error), is too large or empty, or
// does not decode or check. After a request that is not idempotent the
// provider did act, so it is ErrOutcomeUnknown, never a plain bad response:
// sending the request again could ring a phone twice. When ctx ended
// meanwhile the error also matches ctx's error.
func (a *attempt) unusable(ctx context.Context, resp *http.Response, what string, cause error) error {
	e := &telephony.Error{Kind: telephony.ErrBadResponse, Provider: a.c.provider, Op: a.opName(),
		StatusCode: resp.StatusCode, RequestID: a.c.requestID(resp.Header), Attempts: a.attempts}
	msg := "the provider answered " + resp.Status + " but " + what
	if cause != nil {
		msg += ": " + a.c.scrub(redactedError(cause))
		if isTimeout(cause) || errors.Is(cause, context.DeadlineExceeded) || errors.Is(cause, context.Canceled) {
			e.Err = unwrapURL(cause)
		}
	}
	if err := ctx.Err(); err != nil {
		e.Err = err
		if a.idempotent {
			e.Kind = telephony.ErrUnavailable
			msg += " (the context ended while the answer was arriving)"
		}
	}
	if !a.idempotent {
		// Still a bad response (errors.Is matches it too, unless the
		// context's error takes its place), but first an unknown outcome.
		if e.Err == nil {
			e.Err = telephony.ErrBadResponse
		}
		e.Kind = telephony.ErrOutcomeUnknown
		msg += "; the request was received and accepted, so it was probably carried out (a call may ring): do not send it again without checking"
	}
	e.Message = msg
	a.c.log.WarnContext(ctx, "request failed", "provider", a.c.provider, "op", a.opName(), "status", e.StatusCode, "kind", errString(e.Kind), "attempts", e.Attempts)
	return e
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 4<<10))
	_ = r.Close()
}

// DefaultErrorMessage extracts a human message from a provider's error body:
// the first of "message", "error" (a string or an object with "message"),
// "error_description", "detail", followed by "troubleshoot" when present; a
// short plain-text body is returned as is.
func DefaultErrorMessage(body []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		s := strings.TrimSpace(string(body))
		if len(s) > 0 && len(s) <= 200 && !strings.ContainsAny(s, "<>") {
			return s
		}
		return ""
	}
	str := func(k string) string {
		var s string
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s)
		}
		return ""
	}
	msg := str("message")
	if msg == "" {
		msg = str("error")
	}
	if msg == "" {
		var obj struct {
			Message string `json:"message"`
		}
		if raw, ok := m["error"]; ok && json.Unmarshal(raw, &obj) == nil {
			msg = obj.Message
		}
	}
	for _, k := range []string{"error_description", "detail"} {
		if msg == "" {
			msg = str(k)
		}
	}
	if t := str("troubleshoot"); t != "" {
		if msg != "" {
			msg += " — "
		}
		msg += t
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}
