// Package aircalltest is an in-memory, stateful simulator of the Aircall
// Public API (v1) on net/http/httptest, for tests and examples: users with
// numbers and their availabilities (in_call while on a call; see
// SetAvailability) and Aircall's page/per_page pagination with meta links, teams,
// calls (listed and searched by number, direction, user and time: AddCall
// seeds a history) and their transfers (to a known user or team, or a number), outbound
// calls started for a user, rate-limit headers and 429s, webhooks carrying
// their token, and fault injection.
//
//	sim := aircalltest.NewServer()
//	defer sim.Close()
//	sim.SeedUsers(3)
//	c, _ := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
//
// Everything the simulator does is synchronous: webhook events are posted by
// the method that causes them and have been answered when it returns.
package aircalltest

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/internal/simfault"
	"github.com/switchboard-go/switchboard/telephony/fault"
)

// The credentials the simulator accepts; any others get Aircall's 401.
const (
	APIID    = "aircalltest-api-id"
	APIToken = "aircalltest-api-token"
)

// Fault makes the next matching requests fail (InjectFault). It is
// [fault.Fault], shared by the three simulators; its fields:
//
//	Method         string        // "" matches any method
//	Path           string        // a path prefix; "" matches any path
//	Status         int           // answer this status with Aircall's error body
//	Times          int           // how many requests it applies to; 0 means once
//	RetryAfter     string        // sent as Retry-After with Status when set
//	Delay          time.Duration // slept before answering
//	ResetAfterBody bool          // read the body, then drop the connection
//
// A faulted request counts as received (Count) but a POST so faulted is
// not carried out. A 429 carries X-AircallApi-Remaining: 0 and a reset one
// second ahead unless RetryAfter is set. A Delay is slept before answering
// (the fault's Status, or the normal answer when Status is 0).
type Fault = fault.Fault

// Server is the simulator. Its methods are safe for concurrent use.
type Server struct {
	ts      *httptest.Server
	hc      *http.Client
	closing chan struct{}
	once    sync.Once

	mu          sync.Mutex
	users       []*User // by id, ascending
	byCreated   []*User // by creation time, then id
	lastCreated time.Time
	byID        map[int64]*User
	numbers     map[int64]*Number
	calls       map[int64]*Call
	callOrder   []int64
	transfers   []Transfer
	teams       map[int64]*Team
	teamOrder   []int64
	started     []StartedCall
	faults      simfault.Queue
	counter     simfault.Counter
	nextID      int64
	limit       int
	window      time.Duration
	winStart    time.Time
	used        int
	throttled   int
	hookURL     string
	hookToken   string
	deliveries  []Delivery
	api         webhookAPI // REST webhooks (webhookapi.go)
	uni         uniform    // the surface shared with the other simulators (uniform.go)
}

// NewServer starts a simulator with no users and no rate limit.
func NewServer() *Server {
	s := &Server{
		byID: map[int64]*User{}, numbers: map[int64]*Number{}, calls: map[int64]*Call{},
		closing: make(chan struct{}), nextID: 1000,
	}
	s.ts = httptest.NewServer(s)
	s.hc = &http.Client{Timeout: 10 * time.Second}
	return s
}

// URL is the base URL to pass to telephony.WithBaseURL.
func (s *Server) URL() string { return s.ts.URL }

// Close stops the server, ending any injected delay in progress.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.ts.Close()
	s.hc.CloseIdleConnections()
}

// InjectFault queues a fault; faults apply in the order injected.
func (s *Server) InjectFault(f Fault) { s.faults.Inject(f) }

// Count returns how many requests with this method ("" for any) and path
// prefix were received, faulted ones included.
func (s *Server) Count(method, pathPrefix string) int { return s.counter.Count(method, pathPrefix) }

// SetRateLimit makes the simulator enforce limit requests per window for the
// company, as Aircall does: every answer carries X-AircallApi-Limit (scaled
// to requests per minute, as Aircall reports it), X-AircallApi-Remaining and
// X-AircallApi-Reset (Unix seconds), and a request over the limit gets 429.
// Windows are aligned to the clock. A limit of 0 turns limiting off (the
// default: no headers, no 429s). SetRateLimits, the form the three
// simulators share, takes a RateLimit in requests per minute.
func (s *Server) SetRateLimit(limit int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if window <= 0 {
		window = time.Minute
	}
	s.limit, s.window, s.winStart, s.used = limit, window, time.Time{}, 0
}

// Throttled returns how many requests the rate limit answered with 429.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counter.Add(r.Method, r.URL.Path)
	f := s.faults.Take(r.Method, r.URL.Path)
	s.mu.Unlock()
	if f != nil && s.applyFault(w, r, f) {
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Check your API ID and API token: they are sent with HTTP Basic auth.")
		return
	}
	if !s.allow(w) {
		return
	}
	s.route(w, r)
}

// applyFault carries out f and reports whether the request is answered.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	simfault.Sleep(f.Delay, r, s.closing)
	switch {
	case f.ResetAfterBody:
		simfault.Drop(w, r)
		return true
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		} else if f.Status == http.StatusTooManyRequests {
			w.Header().Set("X-AircallApi-Remaining", "0")
			w.Header().Set("X-AircallApi-Reset", strconv.FormatInt(ceilUnix(time.Now().Add(time.Second)), 10))
		}
		writeError(w, f.Status, http.StatusText(f.Status), "Injected fault.")
		return true
	}
	return false
}

func (s *Server) authorized(r *http.Request) bool {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(APIID+":"+APIToken))
	return r.Header.Get("Authorization") == want
}

// allow applies the rate limit, writing its headers, and answers 429 when
// the window is spent.
func (s *Server) allow(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.limit <= 0 {
		return true
	}
	now := time.Now()
	start := now.Truncate(s.window)
	if !start.Equal(s.winStart) {
		s.winStart, s.used = start, 0
	}
	s.used++
	perMinute := int(math.Ceil(float64(s.limit) * float64(time.Minute) / float64(s.window)))
	h := w.Header()
	h.Set("X-AircallApi-Limit", strconv.Itoa(perMinute))
	h.Set("X-AircallApi-Remaining", strconv.Itoa(max(0, s.limit-s.used)))
	h.Set("X-AircallApi-Reset", strconv.FormatInt(ceilUnix(start.Add(s.window)), 10))
	if s.used > s.limit {
		s.throttled++
		if s.uni.retryAfter != "" {
			h.Set("Retry-After", s.uni.retryAfter)
		}
		writeError(w, http.StatusTooManyRequests, "Too Many Requests", "Rate limit reached; wait until X-AircallApi-Reset.")
		return false
	}
	return true
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "v1" {
		writeError(w, http.StatusNotFound, "Not Found", "Unknown path.")
		return
	}
	if parts[1] == "webhooks" { // ids are UUIDs
		s.routeWebhooks(w, r, parts[2:])
		return
	}
	if r.Method == http.MethodGet && len(parts) == 3 && parts[1] == "users" && parts[2] == "availabilities" {
		s.listAvailabilities(w, r)
		return
	}
	if r.Method == http.MethodGet && parts[1] == "calls" && (len(parts) == 2 || len(parts) == 3 && parts[2] == "search") {
		s.listCalls(w, r, len(parts) == 3)
		return
	}
	var id int64 = -1
	if len(parts) >= 3 {
		n, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil || n <= 0 {
			writeError(w, http.StatusNotFound, "Not Found", "Unknown id.")
			return
		}
		id = n
	}
	key := r.Method + " " + parts[1]
	switch {
	case key == "GET ping" && len(parts) == 2:
		writeJSON(w, http.StatusOK, map[string]string{"ping": "pong"})
	case key == "GET users" && len(parts) == 2:
		s.listUsers(w, r)
	case key == "GET users" && len(parts) == 3:
		s.getUser(w, id)
	case key == "GET users" && len(parts) == 4 && parts[3] == "availability":
		s.getAvailability(w, id)
	case key == "GET teams" && len(parts) == 2:
		s.listTeams(w, r)
	case key == "GET teams" && len(parts) == 3:
		s.getTeam(w, id)
	case key == "POST users" && len(parts) == 4 && parts[3] == "calls":
		s.startCall(w, r, id)
	case key == "GET calls" && len(parts) == 3:
		s.getCall(w, id)
	case key == "POST calls" && len(parts) == 4 && parts[3] == "transfers":
		s.transfer(w, r, id)
	default:
		writeError(w, http.StatusNotFound, "Not Found", "No such endpoint in the simulator.")
	}
}

// newIDLocked returns a fresh id; users, numbers and calls share the space.
func (s *Server) newIDLocked() int64 {
	s.nextID++
	return s.nextID
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in Aircall's error shape.
func writeError(w http.ResponseWriter, status int, msg, troubleshoot string) {
	writeJSON(w, status, map[string]string{"error": msg, "troubleshoot": troubleshoot})
}

func ceilUnix(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}
