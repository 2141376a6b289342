package dialpadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Delivery is one call event sent to a webhook (see Deliveries).
type Delivery struct {
	WebhookID int64
	URL       string
	CallID    int64
	State     string
	// Signed reports an HS256 JWT body (the webhook has a secret).
	Signed bool
	// Status is the webhook's final HTTP status, 0 when none arrived.
	Status   int
	Attempts int
	Err      string
}

// Webhook delivery: events go out in order, one at a time, from a goroutine
// that exists only while there is something to send. A 5xx or a connection
// error is retried as Dialpad documents for call events: three retries,
// about 2, 4 and 8 s after the failures (SetEventRetryDelay shortens the
// clock for tests); a 4xx is never retried.
const (
	eventTimeout  = 5 * time.Second
	eventAttempts = 4 // the delivery and three retries
	// DefaultEventRetryDelay is the first retry's delay; each next one
	// doubles it (2, 4, 8 s).
	DefaultEventRetryDelay = 2 * time.Second
)

type webhook struct {
	id     int64
	url    string
	secret string
}

type pendingEvent struct {
	callID  int64
	state   string
	payload map[string]any
	hooks   []webhook // who gets it, decided when it happened
}

type eventQueue struct {
	s          *Server
	mu         sync.Mutex
	idle       *sync.Cond
	hooks      []webhook
	pending    []pendingEvent
	running    bool
	closed     bool
	deliveries []Delivery
	wg         sync.WaitGroup
}

func (q *eventQueue) init(s *Server) {
	q.s = s
	q.idle = sync.NewCond(&q.mu)
}

// AddWebhook subscribes url to the call events of every call the simulator
// places or receives, and returns the webhook's id. With a secret, each
// event is sent as an HS256 JWT (Content-Type application/jwt) whose claims
// are the event JSON; without one, as that JSON (application/json).
// Webhooks created through the REST API (POST /api/v2/webhooks) get events
// only through call subscriptions; see CallSubscription.
func (s *Server) AddWebhook(url, secret string) int64 {
	s.mu.Lock()
	id := s.newID()
	s.mu.Unlock()
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	s.ev.hooks = append(s.ev.hooks, webhook{id: id, url: url, secret: secret})
	return id
}

// Deliveries returns the webhook deliveries made so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	return append([]Delivery(nil), s.ev.deliveries...)
}

// FlushEvents waits until every queued call event has been delivered.
func (s *Server) FlushEvents() {
	s.ev.mu.Lock()
	defer s.ev.mu.Unlock()
	for s.ev.running {
		s.ev.idle.Wait()
	}
}

// emit queues the call's current state for the webhooks. Called with s.mu
// held (the queue's lock nests inside it).
func (s *Server) emit(c *Call) {
	q := &s.ev
	q.mu.Lock()
	defer q.mu.Unlock()
	hooks := append(append([]webhook(nil), q.hooks...), s.subscribedLocked(c)...)
	if len(hooks) == 0 || q.closed {
		return
	}
	q.pending = append(q.pending, pendingEvent{callID: c.ID, state: c.State, payload: s.callEvent(c), hooks: hooks})
	if !q.running {
		q.running = true
		q.wg.Add(1)
		go q.run()
	}
}

func (q *eventQueue) run() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		if len(q.pending) == 0 || q.closed {
			q.pending = nil
			q.running = false
			q.idle.Broadcast()
			q.mu.Unlock()
			return
		}
		ev := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		for _, h := range ev.hooks {
			d := q.deliver(h, ev)
			q.mu.Lock()
			q.deliveries = append(q.deliveries, d)
			q.mu.Unlock()
		}
	}
}

func (q *eventQueue) deliver(h webhook, ev pendingEvent) Delivery {
	d := Delivery{WebhookID: h.id, URL: h.url, CallID: ev.callID, State: ev.state, Signed: h.secret != ""}
	body, ctype, err := encodePayload(ev.payload, h.secret)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	delay := q.s.eventRetryDelay()
	for d.Attempts < eventAttempts {
		d.Attempts++
		status, err := q.post(h.url, ctype, body)
		d.Status, d.Err = status, ""
		if err != nil {
			d.Err = err.Error()
		}
		if err == nil && status < 500 {
			return d
		}
		if d.Attempts < eventAttempts {
			time.Sleep(delay)
			delay *= 2
		}
	}
	return d
}

// SetEventRetryDelay sets the delay before the first retry of a failed
// call-event delivery (DefaultEventRetryDelay, Dialpad's 2 s); the next
// retries wait twice and four times as long. Tests shorten it.
func (s *Server) SetEventRetryDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryDelay = d
}

func (s *Server) eventRetryDelay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retryDelay <= 0 {
		return DefaultEventRetryDelay
	}
	return s.retryDelay
}

func (q *eventQueue) post(url, ctype string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := q.s.out.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// close drops what is still queued and waits for the delivery in progress.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.pending = nil
	q.mu.Unlock()
	q.wg.Wait()
}

// encodePayload returns the body Dialpad sends for claims: a compact HS256
// JWT when secret is set, else the JSON itself.
func encodePayload(claims map[string]any, secret string) ([]byte, string, error) {
	if secret == "" {
		b, err := json.Marshal(claims)
		return b, "application/json", err
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(secret))
	return []byte(tok), "application/jwt", err
}
