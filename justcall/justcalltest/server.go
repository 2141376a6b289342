// Package justcalltest is an in-memory JustCall API on httptest for tests
// and examples: it checks the Authorization header, places click-to-call
// calls (POST /v2/calls/make, or SetMakeCallPath's path) and plays their
// status callbacks to the callback_url, serves the calls it placed or was
// given (AddCall) (GET /v2.1/calls/{id}, and GET /v2.1/calls filtered by
// contact_number, agent_id, call_direction and time), lists
// users (GET /v2.1/users, pages from 0), enforces rate limits with
// JustCall's X-Rate-Limit-* headers and 429s, sends signed v2.1 webhooks,
// and injects faults. It is deterministic: call ids count up from
// call_00000001.
//
//	sim := justcalltest.NewServer()
//	defer sim.Close()
//	sim.SeedUsers(3)
//	c, _ := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()))
package justcalltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/internal/simfault"
	"github.com/switchboard-go/switchboard/telephony/fault"
)

// The credentials the simulator accepts; anything else gets JustCall's 401.
const (
	APIKey    = "sim-api-key"
	APISecret = "sim-api-secret"
)

// Default rate limits: generous, so that tests are not slowed. Call
// SetRateLimit(30, 1800) for JustCall's Team plan.
const (
	DefaultPerMinute = 1000
	DefaultPerHour   = 100000
)

// Fault makes the next matching requests misbehave (InjectFault). It is
// [fault.Fault], shared by the three simulators; its fields:
//
//	Method         string        // "" matches any method
//	Path           string        // a path prefix; "" matches any path
//	Status         int           // answer this status with JustCall's error body
//	Times          int           // how many requests it applies to; 0 means once
//	RetryAfter     string        // sent as Retry-After with Status when set
//	Delay          time.Duration // slept before answering
//	ResetAfterBody bool          // read the body, then drop the connection
//
// A faulted request is counted, but a faulted POST is not carried out (no
// call is placed), except with a Delay alone, which serves the request
// normally afterwards (a slow server) unless the client has gone. A 429
// without RetryAfter carries X-Rate-Limit-Burst-Remaining: 0 and a reset a
// second away.
type Fault = fault.Fault

// Scenario is how a placed call unfolds, as reported to its callback_url.
type Scenario string

// Scenarios and the callback statuses they send.
const (
	ScenarioCompleted Scenario = "completed" // ringing, in-progress, completed
	ScenarioNoAnswer  Scenario = "no-answer" // ringing, no-answer
	ScenarioBusy      Scenario = "busy"      // ringing, busy
	ScenarioFailed    Scenario = "failed"    // failed
)

// CompletedDuration is the duration, in seconds, a completed call reports.
const CompletedDuration = 42

// User is a simulated JustCall agent.
type User struct {
	ID        int64
	Name      string
	Email     string
	Role      string
	Available bool
	// Numbers are the JustCall numbers the agent owns; calls can be made
	// from them.
	Numbers []string
}

// Call is a call placed through the simulator.
type Call struct {
	ID          string
	From, To    string
	AgentID     int64
	CallbackURL string
	CallerID    string
	Scenario    Scenario
	// Status is the last status played to the callback_url ("ringing"
	// until then); for a call added with AddCall, "completed" (answered)
	// or "no-answer".
	Status string
	// Direction is "outbound" for calls placed through the API (left
	// empty) and "inbound" for AddCall's; an inbound call's From is the
	// customer and To the JustCall number.
	Direction string
	// StartedAt is when the call started; zero (calls placed through the
	// API) reads as 2024-03-21 17:08:22 UTC, the date their call object
	// shows.
	StartedAt time.Time
	// Duration is the call's length in seconds (AddCall's calls).
	Duration int
}

// Delivery is one callback or webhook POST the simulator made.
type Delivery struct {
	URL        string
	Kind       string // "callback" or "webhook"
	CallID     string
	Status     string // the callback status, or the webhook type
	StatusCode int    // the receiver's answer; 0 when the POST failed
	Err        string
}

// Request is a request the simulator received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte // at most 1 MiB
}

// Server is the simulator. Its methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	client  *http.Client
	ctx     context.Context
	cancel  context.CancelFunc
	closing chan struct{}
	wg      sync.WaitGroup // callback and webhook POSTs in flight
	close   sync.Once

	mu          sync.Mutex
	users       []User
	numbers     map[string]int64 // number -> owner
	calls       []*Call
	faults      simfault.Queue
	counter     simfault.Counter
	requests    []Request
	deliveries  []Delivery
	scenarios   map[string]Scenario
	scenario    Scenario
	interval    time.Duration
	nextUserID  int64
	nextRequest int
	webhookZone *time.Location
	// plainContact: contact_number without its '+', as JustCall sends it.
	plainContact bool
	makePath     string // "" is DefaultMakeCallPath
	rl           rateState
	api          webhookAPI // registered webhooks (webhookapi.go)
	uni          uniform    // the surface shared with the other simulators (uniform.go)
}

// NewServer starts a simulator. Close it when done.
func NewServer() *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		ctx: ctx, cancel: cancel, closing: make(chan struct{}),
		numbers: map[string]int64{}, scenarios: map[string]Scenario{},
		scenario: ScenarioCompleted, nextUserID: 1001,
		client: &http.Client{Timeout: 5 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		rl:     rateState{perMinute: DefaultPerMinute, perHour: DefaultPerHour},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL returns the base URL to pass to telephony.WithBaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server and waits for the callbacks and webhooks it is
// sending (they are cancelled).
func (s *Server) Close() {
	s.close.Do(func() {
		close(s.closing)
		s.srv.Close()
		s.cancel()
		s.wg.Wait()
		s.client.CloseIdleConnections()
	})
}

// Flush waits until every callback sequence started so far has been
// played. Do not call it while calls are still being placed. FlushEvents,
// the name the three simulators share, does the same.
func (s *Server) Flush() { s.wg.Wait() }

// AddUser adds an agent (an ID of 0 is assigned) and returns it; its
// Numbers become numbers of the account.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == 0 {
		u.ID = s.nextUserID
	}
	if u.ID >= s.nextUserID {
		s.nextUserID = u.ID + 1
	}
	if u.Role == "" {
		u.Role = "Agent"
	}
	u.Numbers = append([]string(nil), u.Numbers...)
	for _, n := range u.Numbers {
		s.numbers[n] = u.ID
	}
	s.users = append(s.users, u)
	return u
}

// SeedUsers adds n agents: "Agent i" <agent{i}@example.com>, i from 1,
// owning the number +1415555{i:04d}; every third one is unavailable.
func (s *Server) SeedUsers(n int) []User {
	out := make([]User, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, s.AddUser(User{
			Name: fmt.Sprintf("Agent %d", i), Email: fmt.Sprintf("agent%d@example.com", i),
			Available: i%3 != 0, Numbers: []string{fmt.Sprintf("+1415555%04d", i)},
		}))
	}
	return out
}

// Users returns the agents.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]User(nil), s.users...)
}

// AddNumber makes number a number of the account owned by agent owner.
func (s *Server) AddNumber(number string, owner int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numbers[number] = owner
}

// SetScenario sets how calls to the number to unfold; an empty to sets the
// default for all other numbers.
func (s *Server) SetScenario(to string, sc Scenario) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if to == "" {
		s.scenario = sc
		return
	}
	s.scenarios[to] = sc
}

// SetCallbackInterval sets the pause between two callbacks of one call
// (zero by default).
func (s *Server) SetCallbackInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interval = d
}

// InjectFault queues a fault; faults apply in the order queued.
func (s *Server) InjectFault(f Fault) { s.faults.Inject(f) }

// Count returns how many requests with method ("" for any) and a path
// starting with pathPrefix were received, faulted ones included.
func (s *Server) Count(method, pathPrefix string) int { return s.counter.Count(method, pathPrefix) }

// Requests returns the requests received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Calls returns the calls placed, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		out[i] = *c
	}
	return out
}

// Deliveries returns the callbacks and webhooks sent, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// Keep the body for Requests, and hand the handlers a copy.
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: body})
	s.counter.Add(r.Method, r.URL.Path)
	f := s.faults.Take(r.Method, r.URL.Path)
	s.mu.Unlock()
	if f != nil && s.applyFault(w, r, f) {
		return
	}
	if r.Header.Get("Authorization") != APIKey+":"+APISecret {
		writeError(w, http.StatusUnauthorized, "Invalid credentials: check your API key and secret")
		return
	}
	if !s.allow(w) {
		writeError(w, http.StatusTooManyRequests, "Rate limit exceeded")
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == s.makeCallPath():
		s.makeCall(w, r)
	case r.URL.Path == "/v2.1/webhooks" || strings.HasPrefix(r.URL.Path, "/v2.1/webhooks/"):
		s.routeWebhooks(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/v2.1/calls":
		s.listCalls(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/v2.1/users":
		s.listUsers(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2.1/calls/") &&
		!strings.Contains(r.URL.Path[len("/v2.1/calls/"):], "/"):
		s.getCall(w, r.URL.Path[len("/v2.1/calls/"):])
	default:
		writeError(w, http.StatusNotFound, "No route for "+r.Method+" "+r.URL.Path)
	}
}

// applyFault plays f and reports whether the request was answered.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if gone, closed := simfault.Sleep(f.Delay, r, s.closing); gone || closed {
		return true // the client gave up: nothing is done
	}
	switch {
	case f.ResetAfterBody:
		simfault.Drop(w, r)
		return true
	case f.Status != 0:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		} else if f.Status == http.StatusTooManyRequests {
			w.Header().Set("X-Rate-Limit-Burst-Remaining", "0")
			w.Header().Set("X-Rate-Limit-Burst-Reset", fmt.Sprint(time.Now().Unix()+1))
		}
		writeError(w, f.Status, faultMessage(f.Status))
		return true
	}
	return r.Context().Err() != nil
}

func faultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Rate limit exceeded"
	case http.StatusBadRequest:
		return "Missing required field"
	case http.StatusUnauthorized:
		return "Invalid credentials"
	case http.StatusNotFound:
		return "Not found"
	}
	return http.StatusText(status)
}

// writeError answers in JustCall's error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": "error", "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
