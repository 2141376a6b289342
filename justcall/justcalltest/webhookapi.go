package justcalltest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/justcall"
)

// RegisteredWebhook is a URL subscribed to one event type through
// POST /v2.1/webhooks, as the simulator holds it. EmitWebhook and
// EmitCallEvent post to the URLs registered for their type.
//
// JustCall's answers to /v2.1/webhooks are modelled on third-party code
// (data holding the type with its webhook_urls[] of url_id and url, and
// DELETE /v2.1/webhooks/url/{url_id}); JustCall's own reference for them
// was not read.
type RegisteredWebhook struct {
	URLID string // 24 hex digits, like the url_id of JustCall's deliveries
	Type  string
	URL   string
}

// webhookTypes are the types POST /v2.1/webhooks accepts (JustCall's
// official MCP server's enum); anything else gets 400.
var webhookTypes = map[string]bool{
	"call.completed": true, "call.answered": true, "call.initiated": true, "call.incoming": true,
	"call.updated": true, "call.enters_queue": true, "call.exits_queue": true, "jc.call_ai_generated": true,
	"call.voicemail": true, "call.missed": true, "call.ai_voice_agent": true, "sms.sent_received": true,
	"sms.sent": true, "sms.received": true, "sms.status_updated": true, "sd.call_completed": true,
	"sd.call_updated": true, "sd.call_ai_generated": true, "whatsapp.message_sent": true,
	"whatsapp.message_received": true, "whatsapp.message_status_updated": true,
	"jc.contact_status_updated": true, "appointment.scheduled": true,
}

// webhookAPI is the registered webhooks, guarded by Server.mu; the zero
// value is ready.
type webhookAPI struct {
	hooks []RegisteredWebhook
}

// RegisteredWebhooks returns the registered webhook URLs, oldest first.
func (s *Server) RegisteredWebhooks() []RegisteredWebhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.api.hooks)
}

// EmitWebhook posts a v2.1 webhook of eventType with data to every URL
// registered for that type (POST /v2.1/webhooks), then to every URL added
// with AddWebhook, signed with APISecret (or AddWebhook's secret) as
// SendWebhook signs, each with its registration's url_id, and returns
// how many were posted and the first failure (a transport error or a
// non-2xx answer). The deliveries show in Deliveries.
func (s *Server) EmitWebhook(eventType string, data any) (int, error) {
	if s.ctx.Err() != nil {
		return 0, errors.New("justcalltest: server closed")
	}
	s.mu.Lock()
	var targets []RegisteredWebhook
	for _, h := range s.api.hooks {
		if h.Type == eventType {
			targets = append(targets, h)
		}
	}
	targets = append(targets, s.uniformTargetsLocked(eventType)...) // AddWebhook's (uniform.go)
	zone := s.webhookZone
	s.mu.Unlock()
	if zone == nil {
		zone = time.UTC
	}
	var first error
	for _, h := range targets {
		s.mu.Lock()
		s.nextRequest++
		reqID := fmt.Sprintf("01SIMREQ%018d", s.nextRequest)
		s.mu.Unlock()
		ts := time.Now().In(zone).Format(justcall.TimestampLayout)
		body, err := json.Marshal(map[string]any{
			"request_id": reqID, "webhook_url": h.URL, "url_id": h.URLID, "type": eventType, "data": data,
		})
		if err != nil {
			return 0, err
		}
		hdr := http.Header{}
		hdr.Set(justcall.HeaderSignature, justcall.Signature(s.signingSecret(h.URLID), h.URL, eventType, ts))
		hdr.Set(justcall.HeaderSignatureVersion, "v1")
		hdr.Set(justcall.HeaderRequestTimestamp, ts)
		d := s.post(h.URL, "webhook", callIDOf(data), eventType, body, hdr)
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
		switch {
		case first != nil:
		case d.Err != "":
			first = fmt.Errorf("justcalltest: webhook POST failed: %s", d.Err)
		case d.StatusCode < 200 || d.StatusCode > 299:
			first = fmt.Errorf("justcalltest: webhook answered %d", d.StatusCode)
		}
	}
	return len(targets), first
}

// EmitCallEvent is EmitWebhook with the call object of a call the
// simulator placed (CallObject) as data.
func (s *Server) EmitCallEvent(eventType, callID string) (int, error) {
	data := s.CallObject(callID)
	if data == nil {
		return 0, fmt.Errorf("justcalltest: no call %q", callID)
	}
	return s.EmitWebhook(eventType, data)
}

func callIDOf(data any) string {
	if m, ok := data.(map[string]any); ok {
		if id, ok := m["id"]; ok {
			return fmt.Sprint(id)
		}
	}
	return ""
}

// routeWebhooks serves /v2.1/webhooks and /v2.1/webhooks/url/{url_id}.
func (s *Server) routeWebhooks(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/v2.1/webhooks")
	switch {
	case rest == "" && r.Method == http.MethodGet:
		s.listWebhooks(w, r)
	case rest == "" && r.Method == http.MethodPost:
		s.createWebhook(w, r)
	case strings.HasPrefix(rest, "/url/") && r.Method == http.MethodDelete && !strings.Contains(rest[len("/url/"):], "/"):
		s.deleteWebhook(w, rest[len("/url/"):])
	default:
		writeError(w, http.StatusNotFound, "No route for "+r.Method+" "+r.URL.Path)
	}
}

// groupLocked renders one type with its URLs. Called with s.mu held.
func (s *Server) groupLocked(eventType string) map[string]any {
	urls := []map[string]any{}
	for _, h := range s.api.hooks {
		if h.Type == eventType {
			urls = append(urls, map[string]any{"url_id": h.URLID, "url": h.URL})
		}
	}
	return map[string]any{"type": eventType, "webhook_urls": urls, "url_count": len(urls)}
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var b struct {
		WebhookURL string `json:"webhook_url"`
		Type       string `json:"type"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON body")
		return
	}
	u, err := url.Parse(b.WebhookURL)
	switch {
	case b.WebhookURL == "":
		writeError(w, http.StatusBadRequest, "Missing required field: webhook_url")
		return
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		writeError(w, http.StatusBadRequest, "webhook_url must be a valid URL")
		return
	case !webhookTypes[b.Type]:
		writeError(w, http.StatusBadRequest, "type must be one of the supported webhook events")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exists := slices.ContainsFunc(s.api.hooks, func(h RegisteredWebhook) bool { return h.Type == b.Type && h.URL == b.WebhookURL })
	if !exists { // the same URL twice for one type is kept once
		id := make([]byte, 12)
		_, _ = rand.Read(id)
		s.api.hooks = append(s.api.hooks, RegisteredWebhook{URLID: hex.EncodeToString(id), Type: b.Type, URL: b.WebhookURL})
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "message": "Webhook URL added", "data": s.groupLocked(b.Type)})
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("type")
	if want != "" && !webhookTypes[want] {
		writeError(w, http.StatusBadRequest, "type must be one of the supported webhook events")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var types []string
	for _, h := range s.api.hooks {
		if (want == "" || h.Type == want) && !slices.Contains(types, h.Type) {
			types = append(types, h.Type)
		}
	}
	data := []any{}
	for _, t := range types {
		data = append(data, s.groupLocked(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": data})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, urlID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.api.hooks, func(h RegisteredWebhook) bool { return h.URLID == urlID })
	if i < 0 {
		writeError(w, http.StatusNotFound, "Webhook URL not found")
		return
	}
	t := s.api.hooks[i].Type
	s.api.hooks = slices.Delete(s.api.hooks, i, i+1)
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "message": "Webhook URL removed", "data": s.groupLocked(t)})
}
