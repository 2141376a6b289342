package aircalltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultWebhookFailureLimit is how many failed deliveries in a row
// deactivate a webhook created through the REST API, as Aircall
// deactivates failing webhooks. Aircall does not publish its threshold;
// 10 is a third party's figure (unverified). See SetWebhookFailureLimit.
const DefaultWebhookFailureLimit = 10

// APIWebhook is a webhook created through the REST API (POST
// /v1/webhooks), as the simulator holds it. Events posted by
// DeliverEvent (and the methods that call it) go to every active
// APIWebhook whose Events hold the event, each body carrying that
// webhook's Token, after the webhook registered with SetWebhook.
type APIWebhook struct {
	ID         string // webhook_id, a UUID
	CustomName string
	URL        string
	Events     []string
	Active     bool
	Token      string
	CreatedAt  time.Time
	// Failures counts failed deliveries in a row (no answer or not 2xx);
	// reaching the failure limit deactivates the webhook.
	Failures int
}

// webhookAPI is the REST webhooks' state, guarded by Server.mu. The zero
// value is ready.
type webhookAPI struct {
	hooks    map[string]*APIWebhook
	order    []string
	limit    int
	limitSet bool
}

// APIWebhooks returns the webhooks created through the REST API, oldest
// first.
func (s *Server) APIWebhooks() []APIWebhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]APIWebhook, 0, len(s.api.order))
	for _, id := range s.api.order {
		h := *s.api.hooks[id]
		h.Events = slices.Clone(h.Events)
		out = append(out, h)
	}
	return out
}

// SetWebhookFailureLimit sets how many failed deliveries in a row
// deactivate a REST-created webhook (DefaultWebhookFailureLimit until
// set); 0 never deactivates. A PUT with active=true re-enables it and
// resets the count.
func (s *Server) SetWebhookFailureLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.api.limit, s.api.limitSet = max(n, 0), true
}

// hookTarget is one webhook an event goes to.
type hookTarget struct {
	id    string // "" for the SetWebhook one
	url   string
	token string
}

// targetsLocked returns the webhooks event goes to: SetWebhook's, then the
// active REST webhooks subscribed to it. Called with s.mu held.
func (s *Server) targetsLocked(event string) []hookTarget {
	var out []hookTarget
	if s.hookURL != "" {
		out = append(out, hookTarget{url: s.hookURL, token: s.hookToken})
	}
	for _, id := range s.api.order {
		h := s.api.hooks[id]
		if h.Active && slices.Contains(h.Events, event) {
			out = append(out, hookTarget{id: h.ID, url: h.URL, token: h.Token})
		}
	}
	return out
}

// recordResult counts a REST webhook's delivery and deactivates it after
// too many failures in a row.
func (s *Server) recordResult(id string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.api.hooks[id]
	if h == nil {
		return
	}
	if ok {
		h.Failures = 0
		return
	}
	h.Failures++
	limit := DefaultWebhookFailureLimit
	if s.api.limitSet {
		limit = s.api.limit
	}
	if limit > 0 && h.Failures >= limit {
		h.Active = false
	}
}

type wireWebhook struct {
	WebhookID  string   `json:"webhook_id"`
	DirectLink string   `json:"direct_link"`
	CreatedAt  string   `json:"created_at"`
	CustomName string   `json:"custom_name"`
	URL        string   `json:"url"`
	Active     bool     `json:"active"`
	Token      string   `json:"token"`
	Events     []string `json:"events"`
}

func (s *Server) wireWebhook(h *APIWebhook) wireWebhook {
	return wireWebhook{WebhookID: h.ID, DirectLink: s.URL() + "/v1/webhooks/" + h.ID,
		CreatedAt: h.CreatedAt.Format("2006-01-02T15:04:05.000Z"), CustomName: h.CustomName, URL: h.URL,
		Active: h.Active, Token: h.Token, Events: slices.Clone(h.Events)}
}

type webhookBody struct {
	CustomName *string  `json:"custom_name"`
	URL        *string  `json:"url"`
	Events     []string `json:"events"`
	Active     *bool    `json:"active"`
}

func (b *webhookBody) validate(create bool) string {
	if create && b.URL == nil {
		return "url is missing."
	}
	if create && len(b.Events) == 0 {
		return "events is missing."
	}
	if b.URL != nil {
		u, err := url.Parse(*b.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "url is invalid."
		}
	}
	if b.Events != nil && len(b.Events) == 0 {
		return "events cannot be empty."
	}
	for _, e := range b.Events {
		if r, a, ok := strings.Cut(e, "."); !ok || r == "" || a == "" {
			return fmt.Sprintf("event %q is invalid.", e)
		}
	}
	return ""
}

// routeWebhooks serves /v1/webhooks and /v1/webhooks/{webhook_id}.
func (s *Server) routeWebhooks(w http.ResponseWriter, r *http.Request, rest []string) {
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		s.listWebhooks(w, r)
	case len(rest) == 0 && r.Method == http.MethodPost:
		s.createWebhook(w, r)
	case len(rest) == 1 && r.Method == http.MethodGet:
		s.withWebhook(w, rest[0], func(h *APIWebhook) { writeJSON(w, http.StatusOK, map[string]any{"webhook": s.wireWebhook(h)}) })
	case len(rest) == 1 && r.Method == http.MethodPut:
		s.updateWebhook(w, r, rest[0])
	case len(rest) == 1 && r.Method == http.MethodDelete:
		s.withWebhook(w, rest[0], func(h *APIWebhook) {
			delete(s.api.hooks, h.ID)
			s.api.order = slices.DeleteFunc(s.api.order, func(v string) bool { return v == h.ID })
			w.WriteHeader(http.StatusNoContent)
		})
	default:
		writeError(w, http.StatusNotFound, "Not Found", "No such endpoint in the simulator.")
	}
}

// withWebhook runs fn with s.mu held on the webhook id, or answers 404.
func (s *Server) withWebhook(w http.ResponseWriter, id string, fn func(*APIWebhook)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.api.hooks[id]
	if h == nil {
		writeError(w, http.StatusNotFound, "Not Found", "Webhook not found.")
		return
	}
	fn(h)
}

func readWebhookBody(w http.ResponseWriter, r *http.Request, create bool) (webhookBody, bool) {
	var b webhookBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request", "Invalid JSON body.")
		return b, false
	}
	if msg := b.validate(create); msg != "" {
		writeError(w, http.StatusBadRequest, "Bad Request", msg)
		return b, false
	}
	return b, true
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	b, ok := readWebhookBody(w, r, true)
	if !ok {
		return
	}
	h := &APIWebhook{ID: newUUID(), CustomName: "Webhook", URL: *b.URL, Events: slices.Clone(b.Events), Active: true,
		Token: hex.EncodeToString(randomBytes(16)), CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if b.CustomName != nil {
		h.CustomName = *b.CustomName
	}
	if b.Active != nil {
		h.Active = *b.Active
	}
	s.mu.Lock()
	if s.api.hooks == nil {
		s.api.hooks = map[string]*APIWebhook{}
	}
	s.api.hooks[h.ID] = h
	s.api.order = append(s.api.order, h.ID)
	out := s.wireWebhook(h)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"webhook": out})
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, id string) {
	b, ok := readWebhookBody(w, r, false)
	if !ok {
		return
	}
	s.withWebhook(w, id, func(h *APIWebhook) {
		if b.CustomName != nil {
			h.CustomName = *b.CustomName
		}
		if b.URL != nil {
			h.URL = *b.URL
		}
		if b.Events != nil {
			h.Events = slices.Clone(b.Events)
		}
		if b.Active != nil {
			h.Active = *b.Active
			if h.Active {
				h.Failures = 0
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"webhook": s.wireWebhook(h)})
	})
}

// listWebhooks serves GET /v1/webhooks: {"webhooks": [...], "meta": {...}}.
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	page, per, ok := parsePage(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	total := len(s.api.order)
	lo, hi := pageBounds(page, per, total)
	items := make([]wireWebhook, 0, hi-lo)
	for _, id := range s.api.order[lo:hi] {
		items = append(items, s.wireWebhook(s.api.hooks[id]))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": items, "meta": s.pageMeta(r, "/v1/webhooks", page, per, len(items), total)})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
