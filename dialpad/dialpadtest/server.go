// Package dialpadtest is a stateful, in-memory simulator of the parts of
// Dialpad's API v2 that package dialpad uses, on net/http/httptest: call
// routers (with Dialpad's validation, the 1-per-5-minutes update limit and
// auto-disable after more than 10 routing errors in an hour), number
// assignment, users with cursors, click-to-call (5 per minute per user),
// transfers, the call history (GET /api/v2/call with its time and target
// filters, GET /api/v2/call/{id}; AddEndedCall seeds it), call-event webhooks (with agents' operator legs,
// ConnectOperator), and inbound calls that consult a router's routing_url
// the way Dialpad does (SimulateInboundCall). REST answers write int64 ids
// as strings and events as numbers, as Dialpad does (SetIDsAsNumbers,
// SetStringIDs).
//
// It is for tests and examples: point a client at it with
// telephony.WithBaseURL(srv.URL()) and the key APIKey.
//
//	srv := dialpadtest.NewServer()
//	defer srv.Close()
//	dp, _ := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(srv.URL()))
//
// Errors have Dialpad's shape, {"error": {"code", "message", "errors": [...]}}.
// The simulator is deterministic (no random failures), and Close waits for
// everything it started.
package dialpadtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/internal/simfault"
	"github.com/switchboard-go/switchboard/telephony/fault"
)

// APIKey is the only API key the simulator accepts, as
// "Authorization: Bearer <APIKey>" (or Dialpad's ?apikey=, which the request
// log flags). Anything else gets Dialpad's 401.
const APIKey = "dialpadtest-api-key"

// Defaults of a new Server.
const (
	// OfficeID and CompanyID are the ids the simulator reports for users and
	// numbers it creates.
	OfficeID  int64 = 5000
	CompanyID int64 = 100
	// RoutingTimeout is how long Dialpad waits for a routing answer.
	RoutingTimeout = 5 * time.Second
	// DefaultPageSize is how many items a list page holds.
	DefaultPageSize = 10
	maxBody         = 1 << 20
)

// Fault makes the next matching requests misbehave (InjectFault). It is
// [fault.Fault], shared by the three simulators; its fields:
//
//	Method         string        // "" matches any method
//	Path           string        // a path prefix; "" matches any path
//	Status         int           // answer this status with Dialpad's error body
//	Times          int           // how many requests it applies to; 0 means once
//	RetryAfter     string        // sent as Retry-After with Status when set
//	Delay          time.Duration // slept before answering
//	ResetAfterBody bool          // read the body, then drop the connection
//
// Status answers with a Dialpad-shaped error body; a Delay alone acts like
// a slow server, carrying the request out after the delay even if the
// client has given up (unless the simulator is closing); ResetAfterBody
// reads the whole request and drops the connection without answering.
type Fault = fault.Fault

// Request is one request the simulator received (see Requests).
type Request struct {
	Method string
	Path   string
	Query  string // with any apikey value blanked
	Body   []byte
	// Authorization is the Authorization header as received.
	Authorization string
	// APIKeyInURL reports an ?apikey= parameter (the client must never send one).
	APIKeyInURL bool
	Faulted     bool
	Time        time.Time
}

// RateLimit is the simulator's rate limiting. Zero fields are unlimited.
type RateLimit struct {
	// CompanyPerSecond is Dialpad's company limit (20/s), a token bucket
	// with a burst of CompanyPerSecond.
	CompanyPerSecond int
	// CallsPerUserPerMinute limits POST /api/v2/call per user_id (5).
	CallsPerUserPerMinute int
	// RouterUpdatesPer5Minutes limits PATCH /api/v2/callrouters/{id} per
	// router (1).
	RouterUpdatesPer5Minutes int
	// RetryAfter, when set, is sent with every 429 (Dialpad documents no
	// Retry-After header).
	RetryAfter string
}

// Server is the simulator. Its methods are safe for concurrent use.
type Server struct {
	retryDelay time.Duration // first retry of a failed event delivery (events.go)
	ts         *httptest.Server
	out        *http.Client // carries routing requests and webhooks
	mux        *http.ServeMux
	closing    chan struct{}
	once       sync.Once

	mu          sync.Mutex
	nextID      int64
	routers     map[int64]*router
	routerOrder []int64
	users       []*User
	calls       map[int64]*Call
	callOrder   []int64
	transfers   []Transfer
	numbers     map[string]int64 // assigned number -> router id
	nextNumber  int
	contacts    map[string]int64 // caller number -> contact id
	faults      simfault.Queue
	counter     simfault.Counter
	log         []Request
	limits      RateLimit
	company     *rate.Limiter
	userLim     map[int64]*rate.Limiter
	routerLim   map[int64]*rate.Limiter
	stringIDs   bool // ids in events and routing requests are strings
	restNumbers bool // ids in REST answers are numbers
	pageSize    int
	over100     int
	routeWait   time.Duration
	skew        time.Duration

	ev  eventQueue
	api webhookAPI // REST webhooks and call subscriptions (webhookapi.go)
	uni uniform    // the surface shared with the other simulators (uniform.go)
}

// NewServer starts a simulator with Dialpad's per-endpoint limits (5 calls
// per minute per user, 1 router update per 5 minutes) and no company limit
// (see SetRateLimit).
func NewServer() *Server {
	s := &Server{
		nextID:    1000,
		routers:   map[int64]*router{},
		calls:     map[int64]*Call{},
		numbers:   map[string]int64{},
		contacts:  map[string]int64{},
		userLim:   map[int64]*rate.Limiter{},
		routerLim: map[int64]*rate.Limiter{},
		pageSize:  DefaultPageSize,
		routeWait: RoutingTimeout,
		closing:   make(chan struct{}),
	}
	s.limits = RateLimit{CallsPerUserPerMinute: 5, RouterUpdatesPer5Minutes: 1}
	tr := &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 10 * time.Second}
	s.out = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.ev.init(s)
	s.mux = http.NewServeMux()
	s.routes()
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL returns the base URL to pass to telephony.WithBaseURL.
func (s *Server) URL() string { return s.ts.URL }

// Close stops the server and waits for every request, routing call and
// webhook delivery it started.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.ev.close()
	s.ts.Close()
	s.out.CloseIdleConnections()
}

// InjectFault queues f; faults are matched in the order they were injected.
func (s *Server) InjectFault(f Fault) { s.faults.Inject(f) }

// Count returns how many requests with this method ("" = any) and path
// prefix were received, faulted and refused ones included.
func (s *Server) Count(method, pathPrefix string) int { return s.counter.Count(method, pathPrefix) }

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// SetRateLimit replaces the simulator's rate limits; see RateLimit.
// SetRateLimits, the name the three simulators share, does the same.
func (s *Server) SetRateLimit(l RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
	s.company = nil
	if l.CompanyPerSecond > 0 {
		s.company = rate.NewLimiter(rate.Limit(l.CompanyPerSecond), l.CompanyPerSecond)
	}
	s.userLim = map[int64]*rate.Limiter{}
	s.routerLim = map[int64]*rate.Limiter{}
}

// SetStringIDs(true) makes the simulator write every id as a numeric string
// ("123"): in REST answers, routing requests and call events.
// SetStringIDs(false) writes them all as JSON numbers. By default REST
// answers carry strings and events and routing requests numbers; see
// SetIDsAsNumbers.
func (s *Server) SetStringIDs(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stringIDs, s.restNumbers = on, !on
}

// SetIDsAsNumbers(true) makes REST answers carry int64 ids as JSON numbers
// (123); by default they are numeric strings ("123"), as in every example
// of Dialpad's API reference (format int64, written as strings). Call
// events and routing requests are not affected: they carry numbers, as
// Dialpad's call events do (SetStringIDs changes them).
func (s *Server) SetIDsAsNumbers(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restNumbers = on
}

// SetPageSize sets how many items a list page holds (default 10).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 1 {
		n = 1
	}
	s.pageSize = n
}

// SetRoutingTimeout changes how long SimulateInboundCall waits for a routing
// answer (Dialpad: 5 s), to keep tests of late answers short.
func (s *Server) SetRoutingTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routeWait = d
}

// AdvanceClock moves the simulator's clock forward by d: routing errors age
// out of the one-hour window and rate limits refill as if d had passed.
func (s *Server) AdvanceClock(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skew += d
}

// now is the simulator's clock. Called with or without s.mu.
func (s *Server) nowLocked() time.Time { return time.Now().Add(s.skew) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	q := r.URL.Query()
	_, keyInURL := q["apikey"]
	if keyInURL {
		q.Set("apikey", "REDACTED")
	}
	s.mu.Lock()
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: q.Encode(), Body: body, Authorization: r.Header.Get("Authorization"),
		APIKeyInURL: keyInURL, Time: time.Now()}
	f := s.faults.Take(r.Method, r.URL.Path)
	rec.Faulted = f != nil
	s.log = append(s.log, rec)
	s.counter.Add(r.Method, r.URL.Path)
	s.mu.Unlock()

	if f != nil {
		if f.Delay > 0 {
			// A slow server keeps going when the client gives up.
			if _, closed := simfault.Sleep(f.Delay, r.WithContext(context.WithoutCancel(r.Context())), s.closing); closed {
				simfault.Drop(w, r)
				return
			}
		}
		if f.ResetAfterBody {
			simfault.Drop(w, r)
			return
		}
		if f.Status != 0 {
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			writeError(w, f.Status, "injected fault")
			return
		}
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	if !authorized(r) {
		writeError(w, http.StatusUnauthorized, "Invalid or missing API key")
		return
	}
	if retryAfter, limited := s.companyLimited(); limited {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeError(w, http.StatusTooManyRequests, "Rate limit exceeded: 20 requests per second per company")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mux.ServeHTTP(w, r)
}

func authorized(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		return h == "Bearer "+APIKey
	}
	return r.URL.Query().Get("apikey") == APIKey
}

func (s *Server) companyLimited() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.company == nil || s.company.AllowN(s.nowLocked(), 1) {
		return "", false
	}
	s.uni.throttled++
	return s.limits.RetryAfter, true
}

// allowKeyed applies a per-key token bucket of n per period (n <= 0: no
// limit). Called with s.mu held.
func (s *Server) allowKeyed(m map[int64]*rate.Limiter, key int64, n int, period time.Duration) bool {
	if n <= 0 {
		return true
	}
	l := m[key]
	if l == nil {
		l = rate.NewLimiter(rate.Every(period/time.Duration(n)), n)
		m[key] = l
	}
	return l.AllowN(s.nowLocked(), 1)
}

func (s *Server) tooMany(w http.ResponseWriter, msg string) {
	s.mu.Lock()
	ra := s.limits.RetryAfter
	s.uni.throttled++
	s.mu.Unlock()
	if ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	writeError(w, http.StatusTooManyRequests, msg)
}

// newID returns a fresh id. Called with s.mu held.
func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// id encodes an id of a REST answer as the simulator is configured to
// (a string by default). Called with s.mu held.
func (s *Server) id(v int64) any {
	if !s.restNumbers {
		return strconv.FormatInt(v, 10)
	}
	return v
}

// eventID encodes an id of a call event or routing request (a number by
// default). Called with s.mu held.
func (s *Server) eventID(v int64) any {
	if s.stringIDs {
		return strconv.FormatInt(v, 10)
	}
	return v
}

// writeError writes Dialpad's error shape (Google Cloud Endpoints style).
func writeError(w http.ResponseWriter, status int, msg string) {
	reason := map[int]string{400: "badRequest", 401: "required", 403: "forbidden", 404: "notFound", 409: "conflict",
		413: "requestTooLarge", 429: "rateLimitExceeded"}[status]
	if reason == "" {
		reason = "backendError"
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": msg,
		"errors": []any{map[string]any{"domain": "global", "reason": reason, "message": msg}},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// decode reads a JSON request body strictly: unknown fields are refused,
// as Dialpad refuses them. An empty body decodes as {}.
func decode(r *http.Request, v any) error {
	data, _ := io.ReadAll(r.Body)
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	return nil
}

func pathID(r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return n, err == nil && n > 0
}

// Cursors are opaque to clients, as Dialpad's are.
func encodeCursor(kind string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.Itoa(offset)))
}

func decodeCursor(kind, c string) (int, bool) {
	if c == "" {
		return 0, true
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), kind+":")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

func (s *Server) routes() {
	s.mux.HandleFunc("POST /api/v2/callrouters", s.createRouter)
	s.mux.HandleFunc("GET /api/v2/callrouters", s.listRouters)
	s.mux.HandleFunc("GET /api/v2/callrouters/{id}", s.getRouter)
	s.mux.HandleFunc("PATCH /api/v2/callrouters/{id}", s.updateRouter)
	s.mux.HandleFunc("DELETE /api/v2/callrouters/{id}", s.deleteRouter)
	s.mux.HandleFunc("POST /api/v2/callrouters/{id}/assign_number", s.assignNumber)
	s.mux.HandleFunc("GET /api/v2/users", s.listUsers)
	s.mux.HandleFunc("POST /api/v2/call", s.initiateCall)
	s.mux.HandleFunc("GET /api/v2/call", s.listCalls)
	s.mux.HandleFunc("GET /api/v2/call/{id}", s.getCall)
	s.mux.HandleFunc("POST /api/v2/call/{id}/transfer", s.transferCall)
	s.mux.HandleFunc("POST /api/v2/webhooks", s.createWebhook)
	s.mux.HandleFunc("GET /api/v2/webhooks", s.listWebhooks)
	s.mux.HandleFunc("GET /api/v2/webhooks/{id}", s.getWebhook)
	s.mux.HandleFunc("PATCH /api/v2/webhooks/{id}", s.updateWebhook)
	s.mux.HandleFunc("DELETE /api/v2/webhooks/{id}", s.deleteWebhook)
	s.mux.HandleFunc("POST /api/v2/subscriptions/call", s.createSubscription)
	s.mux.HandleFunc("GET /api/v2/subscriptions/call", s.listSubscriptions)
	s.mux.HandleFunc("GET /api/v2/subscriptions/call/{id}", s.getSubscription)
	s.mux.HandleFunc("PATCH /api/v2/subscriptions/call/{id}", s.updateSubscription)
	s.mux.HandleFunc("DELETE /api/v2/subscriptions/call/{id}", s.deleteSubscription)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "No such endpoint: "+r.Method+" "+r.URL.Path)
	})
}
