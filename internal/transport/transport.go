// Package transport is the one HTTP path of every provider client:
// authentication headers, the per-account rate limiter and not-before gate,
// the method-aware retry policy on go-retryablehttp, typed errors, redaction
// and JSON in and out. Provider packages describe their endpoints; this
// package does the rest.
package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// Limits on what is read from a provider.
const (
	maxResponseBody = 16 << 20 // a successful body
	maxErrorBody    = 64 << 10 // an error body, read for its message
	maxErrorSnippet = 512      // kept in telephony.Error.Body
)

// Config describes a provider to the transport.
type Config struct {
	Provider       string
	DefaultBaseURL string
	// Credential identifies the account (API key, id:token...). It is
	// hashed to find the shared Account and never stored.
	Credential string
	// Authorize sets the authentication header on each request.
	Authorize func(http.Header)
	// Windows are the documented steady limits of the account.
	Windows []Window
	// RateHeaders name the rate-limit headers the provider sends.
	RateHeaders []HeaderWindow
	// RequestIDHeaders name headers that carry the provider's request id.
	RequestIDHeaders []string
	// ErrorMessage extracts the provider's message from an error body; nil
	// uses DefaultErrorMessage.
	ErrorMessage func(body []byte) string
	Settings     telephony.Settings
}

// Client sends requests to one provider account. It is safe for concurrent
// use.
type Client struct {
	provider     string
	base         *url.URL
	baseURL      string      // base.String(), built once
	headers      http.Header // sent with every request (cloned: one allocation)
	jsonHeaders  http.Header // headers plus Content-Type, for requests with a body
	retry        *retryablehttp.Client
	http         *http.Client
	account      *Account
	rateHeaders  []HeaderWindow // header names canonicalised once, in New
	requestIDs   []string       // canonical header names
	errorMessage func([]byte) string
	scrubber     *strings.Replacer // removes credentials from what is kept of a response
	s            telephony.Settings
	log          *slog.Logger
}

// New builds a Client from cfg.
func New(cfg Config) (*Client, error) {
	if cfg.Authorize == nil {
		return nil, errors.New("transport: Config.Authorize is nil")
	}
	raw := cfg.Settings.BaseURL
	if raw == "" {
		raw = cfg.DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("transport: bad base URL %q", raw)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if cfg.Settings.HTTPClient != nil {
		cp := *cfg.Settings.HTTPClient
		hc = &cp
	}
	// Client.Timeout becomes a per-attempt context deadline, armed only
	// when the caller's own deadline is further away (see attemptTimeout).
	if hc.Timeout > 0 {
		next := hc.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		hc.Transport, hc.Timeout = &attemptTimeout{next: next, d: hc.Timeout}, 0
	}
	// Never follow a redirect: a POST would turn into a GET, and a
	// redirect to another host must not see our credentials.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	s := cfg.Settings
	if s.MaxAttempts < 1 {
		s.MaxAttempts = telephony.DefaultMaxAttempts
	}
	if s.RetryBaseWait <= 0 {
		s.RetryBaseWait, s.RetryMaxWait = telephony.DefaultRetryBaseWait, telephony.DefaultRetryMaxWait
	}
	tracked := map[int]bool{}
	for _, h := range cfg.RateHeaders {
		if h.Window >= 0 && h.Reset != "" {
			tracked[h.Window] = true
		}
	}
	acct := accountFor(cfg.Provider, base.String(), cfg.Credential, cfg.Windows, tracked, state.Or(s.State))
	acct.setLogger(s.Logger)
	if s.RateLimit != 0 {
		acct.SetRate(s.RateLimit, s.RateBurst)
	}
	msg := cfg.ErrorMessage
	if msg == nil {
		msg = DefaultErrorMessage
	}
	ids := slices.Clone(cfg.RequestIDHeaders)
	if len(ids) == 0 {
		ids = []string{"X-Request-Id", "Request-Id", "X-Amzn-RequestId"}
	}
	// Header names are canonicalised once here, not on every response.
	for i := range ids {
		ids[i] = http.CanonicalHeaderKey(ids[i])
	}
	rateHeaders := slices.Clone(cfg.RateHeaders)
	for i := range rateHeaders {
		h := &rateHeaders[i]
		h.Limit, h.Remaining, h.Reset = canonical(h.Limit), canonical(h.Remaining), canonical(h.Reset)
	}
	log := s.Logger
	if log == nil {
		log = slog.New(discard{})
	}
	c := &Client{
		provider: cfg.Provider, base: base, baseURL: base.String(), http: hc,
		account: acct, rateHeaders: rateHeaders, requestIDs: ids,
		errorMessage: msg, s: s, log: log,
	}
	c.headers = http.Header{"Accept": {"application/json"}}
	if s.UserAgent != "" {
		c.headers.Set("User-Agent", s.UserAgent)
	}
	cfg.Authorize(c.headers)
	c.scrubber = newScrubber(cfg.Credential, c.headers)
	c.jsonHeaders = c.headers.Clone()
	c.jsonHeaders.Set("Content-Type", "application/json")
	// One retryablehttp client serves every operation; its hooks find the
	// operation's state in the request context.
	c.retry = &retryablehttp.Client{
		HTTPClient:     hc,
		RetryMax:       s.MaxAttempts - 1,
		RequestLogHook: beforeAttempt,
		CheckRetry:     checkRetry,
		Backoff:        noBackoff,
		PrepareRetry:   prepareRetry,
		ErrorHandler:   errorHandler,
	}
	return c, nil
}

// Provider returns the provider name.
func (c *Client) Provider() string { return c.provider }

// Account returns the shared rate-limit state of the client's account.
func (c *Client) Account() *Account { return c.account }

// Settings returns the settings the client was built with.
func (c *Client) Settings() telephony.Settings { return c.s }

// BaseURL returns the base URL requests go to.
func (c *Client) BaseURL() string { return c.baseURL }

// Request is one logical API operation.
type Request struct {
	Method string
	// Path is the escaped path under the base URL, e.g. "/v1/calls/42".
	Path string
	// URL, when set, replaces Path and Query: a next-page link. Only its
	// path and query are used, on the base URL.
	URL string
	// Route is the path template for errors and logs, e.g.
	// "/v1/calls/{id}"; empty means Path.
	Route string
	Query url.Values
	// Body is marshalled as JSON when non-nil.
	Body any
	// Out receives the decoded JSON body of a 2xx answer when non-nil.
	Out any
	// Decode, when set, decodes a 2xx body in place of json.Unmarshal into
	// Out (a fast path with a fallback, say); a body is then required as
	// with Out, and a Decode error is an unusable answer.
	Decode func(body []byte) error
	// AllowEmpty accepts a 2xx answer with an empty body, leaving Out as it
	// is; by default Out makes a body required.
	AllowEmpty bool
	// Check, when set, runs after Out was decoded and rejects an answer
	// about something else than what was asked (another id, say).
	Check func() error
	// Idempotent marks a request that may be repeated after it reached the
	// provider. GET, HEAD, PUT and DELETE are idempotent whatever this says;
	// POST and PATCH are sent again only after a 429 or when nothing was
	// written, unless Idempotent is set.
	Idempotent bool
}

// Response describes a successful answer.
type Response struct {
	StatusCode int
	Header     http.Header
	RequestID  string
	Attempts   int
}

// do sends req and decodes the answer into req.Out. Every failure is a
// *telephony.Error.
//
// Once the provider answered 2xx, a body that cannot be read, is empty
// where req.Out wants one, cannot be decoded or fails req.Check is a
// failure: for a request that is not idempotent it matches
// telephony.ErrOutcomeUnknown (the provider did act; do not send it
// again), otherwise telephony.ErrBadResponse; when the context ended
// meanwhile it also matches the context's error.
func (c *Client) do(ctx context.Context, req *Request, rec *record) (*Response, error) {
	a := &attempt{c: c, method: req.Method, route: req.route(), idempotent: req.Idempotent || idempotentMethod(req.Method), debug: c.log.Enabled(ctx, slog.LevelDebug), rec: rec}
	target, err := c.url(req)
	if err != nil {
		return nil, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: c.provider, Op: a.opName(), Message: err.Error()}
	}
	var body []byte
	if req.Body != nil {
		if body, err = json.Marshal(req.Body); err != nil {
			return nil, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: c.provider, Op: a.opName(), Message: "encoding request body: " + err.Error()}
		}
	}
	ctx = context.WithValue(ctx, attemptKey{}, a)
	if !a.idempotent {
		// Only a request that is not sent again once it may have reached
		// the provider needs to know whether anything was written.
		ctx = httptrace.WithClientTrace(ctx, a.trace())
	}

	start := time.Now()
	err = c.account.wait(ctx, c.s.MaxRetryWait)
	rec.waited(time.Since(start), false)
	if err != nil {
		return nil, a.fail(ctx, nil, err)
	}
	var rbody any
	if body != nil {
		rbody = body
	}
	rreq, err := retryablehttp.NewRequestWithContext(ctx, req.Method, target, rbody)
	if err != nil {
		return nil, &telephony.Error{Kind: telephony.ErrInvalidRequest, Provider: c.provider, Op: a.opName(), Message: err.Error()}
	}
	if body != nil {
		rreq.Header = shallowClone(c.jsonHeaders)
	} else {
		rreq.Header = shallowClone(c.headers)
	}
	resp, err := c.retry.Do(rreq)
	if err != nil {
		return nil, a.fail(ctx, nil, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, a.fail(ctx, resp, nil)
	}
	c.account.budget.refund()
	out := &Response{StatusCode: resp.StatusCode, Header: resp.Header, RequestID: c.requestID(resp.Header), Attempts: a.attempts}
	if req.Out == nil && req.Decode == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody))
		return out, nil
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := readLimited(buf, resp.Body, maxResponseBody); err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, a.unusable(ctx, resp, fmt.Sprintf("the answer is larger than %d bytes", maxResponseBody), nil)
		}
		return nil, a.unusable(ctx, resp, "reading the answer failed", err)
	}
	data := buf.Bytes()
	if len(bytes.TrimSpace(data)) == 0 {
		if req.AllowEmpty {
			return out, nil
		}
		return nil, a.unusable(ctx, resp, "the answer has no body where one was expected", nil)
	}
	if req.Decode != nil {
		err = req.Decode(data)
	} else {
		err = json.Unmarshal(data, req.Out)
	}
	if err != nil {
		return nil, a.unusable(ctx, resp, "the body is not the expected JSON", err)
	}
	if req.Check != nil {
		if err := req.Check(); err != nil {
			return nil, a.unusable(ctx, resp, "the answer is not about what was asked", err)
		}
	}
	return out, nil
}

// shallowClone copies h's map but shares its value slices, which nothing
// modifies in place (Set replaces a slice; Add appends to a full one, which
// copies): one allocation per request instead of Header.Clone's three.
func shallowClone(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		out[k] = v[:len(v):len(v)]
	}
	return out
}

// Pooled buffers for 2xx bodies: json.Unmarshal copies what it keeps, so a
// body's bytes are not needed once decoded.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bodyPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // let a rare huge body go
		return
	}
	b.Reset()
	bodyPool.Put(b)
}

var errTooLarge = errors.New("body too large")

// readLimited reads r to its end into buf, failing with errTooLarge past
// limit bytes.
func readLimited(buf *bytes.Buffer, r io.Reader, limit int) error {
	for {
		if buf.Len() > limit {
			return errTooLarge
		}
		buf.Grow(bytes.MinRead)
		free := buf.AvailableBuffer()
		n, err := r.Read(free[:cap(free)])
		buf.Write(free[:n])
		if err == io.EOF {
			if buf.Len() > limit {
				return errTooLarge
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (r *Request) route() string {
	if r.Route != "" {
		return r.Route
	}
	if r.Path != "" {
		return r.Path
	}
	if u, err := url.Parse(r.URL); err == nil {
		return u.Path
	}
	return "?"
}

func (c *Client) url(req *Request) (string, error) {
	if req.URL != "" {
		u, err := url.Parse(req.URL)
		if err != nil {
			return "", fmt.Errorf("bad next-page URL: %v", err)
		}
		// Only the link's path and query are used, on our base URL:
		// credentials never go to a host a response named, and a base
		// URL with a prefix or behind a proxy keeps working.
		path := u.EscapedPath()
		if !strings.HasPrefix(path, "/") {
			return "", fmt.Errorf("bad next-page URL: path %q is not absolute", path)
		}
		if prefix := c.base.EscapedPath(); prefix != "" && !strings.HasPrefix(path, prefix+"/") {
			path = prefix + path
		}
		s := c.base.Scheme + "://" + c.base.Host + path
		if u.RawQuery != "" {
			s += "?" + u.RawQuery
		}
		return s, nil
	}
	if !strings.HasPrefix(req.Path, "/") {
		return "", fmt.Errorf("path %q must start with /", req.Path)
	}
	s := c.baseURL + req.Path
	if len(req.Query) > 0 {
		s += "?" + req.Query.Encode()
	}
	return s, nil
}

func idempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

func (c *Client) requestID(h http.Header) string {
	for _, k := range c.requestIDs {
		if v := header(h, k); v != "" {
			if len(v) > 128 {
				v = v[:128]
			}
			return c.scrub(v)
		}
	}
	return ""
}

// header is h.Get for a name already in canonical form: no
// canonicalisation (and no allocation) per lookup.
func header(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// canonical is http.CanonicalHeaderKey, keeping "" empty.
func canonical(k string) string {
	if k == "" {
		return ""
	}
	return http.CanonicalHeaderKey(k)
}

// observe applies the provider's rate-limit headers to the account: each
// counted window takes the provider's limit, remaining count and reset; an
// exhausted window that is not counted closes the gate until its reset. It
// returns the longest reset wait of the exhausted windows, for a 429
// without Retry-After.
func (c *Client) observe(ctx context.Context, h http.Header) (exhausted time.Duration, found bool) {
	now := time.Now()
	for _, w := range c.rateHeaders {
		limit, hasLimit := 0, false
		if w.Limit != "" {
			limit, hasLimit = atoiHeader(header(h, w.Limit))
		}
		rem, hasRem := atoiHeader(header(h, w.Remaining))
		var wait time.Duration
		hasReset := false
		if w.Reset != "" {
			// Not clamped: the window really is spent until then. A wait
			// longer than MaxRetryWait makes callers fail fast instead.
			wait, hasReset = ParseReset(header(h, w.Reset), now)
		}
		if !hasLimit && !hasRem && !hasReset {
			continue
		}
		if w.Window >= 0 {
			c.account.report(ctx, w.Window, limit, hasLimit, rem, hasRem, now.Add(wait), hasReset)
		}
		if hasRem && rem == 0 && hasReset {
			if w.Window < 0 {
				// Not counted as a window: close the gate, for at most
				// an hour whatever the header says.
				c.account.Block(ctx, min(wait, time.Hour))
			}
			exhausted, found = max(exhausted, wait), true
		}
	}
	return exhausted, found
}

func atoiHeader(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 12 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, true
}

// discard is a slog.Handler that drops everything: the library is silent
// unless given a logger.
type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return false }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }
