package dialpadtest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/switchboard-go/switchboard/internal/jsonx"
)

// APIWebhook is a webhook created through the REST API (POST
// /api/v2/webhooks), as the simulator holds it. It receives call events
// only through a call subscription (CallSubscription); a webhook added
// with AddWebhook receives every call event without one.
type APIWebhook struct {
	ID      int64
	HookURL string
	// Secret signs deliveries as HS256 JWTs; empty sends plain JSON.
	Secret string
}

// CallSubscription is a call event subscription created through the REST
// API (POST /api/v2/subscriptions/call). An event of a call is sent to the
// subscription's webhook when the subscription is enabled, its CallStates
// hold the call's state (or "all"), the call is a group call when
// GroupCallsOnly is set, and, with a target, the call's target is that
// target (for TargetType "user", also a call the user placed). A webhook
// that several matching subscriptions share gets each event once.
type CallSubscription struct {
	ID             int64
	WebhookID      int64
	CallStates     []string
	Enabled        bool
	GroupCallsOnly bool
	TargetID       int64
	TargetType     string
}

// webhookAPI is the state of the REST webhooks and subscriptions, guarded
// by Server.mu. The zero value is ready.
type webhookAPI struct {
	hooks     map[int64]*APIWebhook
	hookOrder []int64
	subs      map[int64]*CallSubscription
	subOrder  []int64
}

var callStates = map[string]bool{
	"admin": true, "admin_recording": true, "ai_playbook": true, "all": true, "barge": true, "blocked": true,
	"call_transcription": true, "calling": true, "connected": true, "csat": true, "dispositions": true,
	"eavesdrop": true, "hangup": true, "hold": true, "merged": true, "missed": true, "monitor": true,
	"parked": true, "pcsat": true, "postcall": true, "preanswer": true, "queued": true,
	"recap_action_items": true, "recap_outcome": true, "recap_purposes": true, "recap_summary": true,
	"recording": true, "ringing": true, "takeover": true, "transcription": true, "voicemail": true,
	"voicemail_uploaded": true,
}

// APIWebhooks returns the webhooks created through the REST API, oldest
// first.
func (s *Server) APIWebhooks() []APIWebhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]APIWebhook, 0, len(s.api.hookOrder))
	for _, id := range s.api.hookOrder {
		out = append(out, *s.api.hooks[id])
	}
	return out
}

// CallSubscriptions returns the call event subscriptions, oldest first.
func (s *Server) CallSubscriptions() []CallSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CallSubscription, 0, len(s.api.subOrder))
	for _, id := range s.api.subOrder {
		c := *s.api.subs[id]
		c.CallStates = slices.Clone(c.CallStates)
		out = append(out, c)
	}
	return out
}

// subscribedLocked returns the REST webhooks that get c's current event.
// Called with s.mu held.
func (s *Server) subscribedLocked(c *Call) []webhook {
	var out []webhook
	seen := map[int64]bool{}
	for _, id := range s.api.subOrder {
		sub := s.api.subs[id]
		h := s.api.hooks[sub.WebhookID]
		if h == nil || seen[h.ID] || !sub.Enabled || !sub.matches(c) {
			continue
		}
		seen[h.ID] = true
		out = append(out, webhook{id: h.ID, url: h.HookURL, secret: h.Secret})
	}
	return out
}

func (sub *CallSubscription) matches(c *Call) bool {
	if !slices.Contains(sub.CallStates, "all") && !slices.Contains(sub.CallStates, c.State) {
		return false
	}
	if sub.GroupCallsOnly && c.GroupID == 0 {
		return false
	}
	if sub.TargetType != "" {
		mine := c.TargetType == sub.TargetType && c.TargetID == sub.TargetID
		placed := sub.TargetType == "user" && c.UserID == sub.TargetID
		if !mine && !placed {
			return false
		}
	}
	return true
}

// webhookJSON renders WebhookProto. Like Dialpad's reference examples it
// echoes the secret in signature. Called with s.mu held.
func (s *Server) webhookJSON(h *APIWebhook) map[string]any {
	sig := map[string]any{}
	if h.Secret != "" {
		sig = map[string]any{"type": "jwt", "algo": "HS256", "secret": h.Secret}
	}
	return map[string]any{"id": s.id(h.ID), "hook_url": h.HookURL, "signature": sig}
}

func (s *Server) subscriptionJSON(sub *CallSubscription) map[string]any {
	out := map[string]any{"id": s.id(sub.ID), "call_states": slices.Clone(sub.CallStates), "enabled": sub.Enabled,
		"group_calls_only": sub.GroupCallsOnly}
	if sub.CallStates == nil {
		out["call_states"] = []string{}
	}
	if h := s.api.hooks[sub.WebhookID]; h != nil {
		out["webhook"] = s.webhookJSON(h)
	}
	if sub.TargetType != "" {
		out["target_id"], out["target_type"] = s.id(sub.TargetID), sub.TargetType
	}
	return out
}

type webhookBody struct {
	HookURL *string `json:"hook_url"`
	Secret  *string `json:"secret"`
}

func (b *webhookBody) validate(create bool) string {
	if create && b.HookURL == nil {
		return "Missing required field(s): hook_url"
	}
	if b.HookURL != nil {
		u, err := url.Parse(*b.HookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "hook_url is not a valid URL"
		}
	}
	if b.Secret != nil && strings.ContainsAny(*b.Secret, "\r\n") {
		return "secret must be a single line"
	}
	return ""
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var b webhookBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if msg := b.validate(true); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := &APIWebhook{ID: s.newID(), HookURL: *b.HookURL}
	if b.Secret != nil {
		h.Secret = *b.Secret
	}
	if s.api.hooks == nil {
		s.api.hooks = map[int64]*APIWebhook{}
	}
	s.api.hooks[h.ID] = h
	s.api.hookOrder = append(s.api.hookOrder, h.ID)
	writeJSON(w, http.StatusOK, s.webhookJSON(h))
}

// apiWebhook finds the webhook of the request's {id}, answering 404 itself.
// Called with s.mu held.
func (s *Server) apiWebhook(w http.ResponseWriter, r *http.Request) *APIWebhook {
	id, ok := pathID(r)
	h := s.api.hooks[id]
	if !ok || h == nil {
		writeError(w, http.StatusNotFound, "Webhook not found")
		return nil
	}
	return h
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.apiWebhook(w, r); h != nil {
		writeJSON(w, http.StatusOK, s.webhookJSON(h))
	}
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	off, ok := decodeCursor("webhooks", r.URL.Query().Get("cursor"))
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid cursor")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []any{}
	end := min(off+s.pageSize, len(s.api.hookOrder))
	for i := min(off, end); i < end; i++ {
		items = append(items, s.webhookJSON(s.api.hooks[s.api.hookOrder[i]]))
	}
	out := map[string]any{"items": items}
	if end < len(s.api.hookOrder) {
		out["cursor"] = encodeCursor("webhooks", end)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var b webhookBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.apiWebhook(w, r)
	if h == nil {
		return
	}
	if msg := b.validate(false); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	if b.HookURL != nil {
		h.HookURL = *b.HookURL
	}
	if b.Secret != nil {
		h.Secret = *b.Secret
	}
	writeJSON(w, http.StatusOK, s.webhookJSON(h))
}

// deleteWebhook removes the webhook; subscriptions naming it stay, and send
// nothing (Dialpad's behaviour here is not documented).
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.apiWebhook(w, r)
	if h == nil {
		return
	}
	delete(s.api.hooks, h.ID)
	s.api.hookOrder = slices.DeleteFunc(s.api.hookOrder, func(v int64) bool { return v == h.ID })
	writeJSON(w, http.StatusOK, s.webhookJSON(h))
}

type subscriptionBody struct {
	EndpointID     *jsonx.Int64 `json:"endpoint_id"`
	CallStates     []string     `json:"call_states"`
	Enabled        *bool        `json:"enabled"`
	GroupCallsOnly *bool        `json:"group_calls_only"`
	TargetID       *jsonx.Int64 `json:"target_id"`
	TargetType     *string      `json:"target_type"`
}

// validate applies the checks; called with s.mu held (endpoint_id must name
// a webhook).
func (s *Server) validateSubscription(b *subscriptionBody, create bool) string {
	if create && b.EndpointID == nil {
		return "Missing required field(s): endpoint_id"
	}
	if b.EndpointID != nil && s.api.hooks[int64(*b.EndpointID)] == nil {
		return fmt.Sprintf("endpoint_id %d is not a webhook of this company", int64(*b.EndpointID))
	}
	for _, st := range b.CallStates {
		if !callStates[st] {
			return fmt.Sprintf("call_states: %q is not a valid call state", st)
		}
	}
	if (b.TargetID == nil) != (b.TargetType == nil) {
		return "target_id and target_type must be provided together"
	}
	if b.TargetType != nil && (!targetTypes[*b.TargetType] || *b.TargetID <= 0) {
		return "invalid target"
	}
	return ""
}

func (b *subscriptionBody) apply(sub *CallSubscription) {
	if b.EndpointID != nil {
		sub.WebhookID = int64(*b.EndpointID)
	}
	if b.CallStates != nil {
		sub.CallStates = slices.Clone(b.CallStates)
	}
	if b.Enabled != nil {
		sub.Enabled = *b.Enabled
	}
	if b.GroupCallsOnly != nil {
		sub.GroupCallsOnly = *b.GroupCallsOnly
	}
	if b.TargetType != nil {
		sub.TargetID, sub.TargetType = int64(*b.TargetID), *b.TargetType
	}
}

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request) {
	var b subscriptionBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg := s.validateSubscription(&b, true); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	sub := &CallSubscription{ID: s.newID(), Enabled: true}
	b.apply(sub)
	if s.api.subs == nil {
		s.api.subs = map[int64]*CallSubscription{}
	}
	s.api.subs[sub.ID] = sub
	s.api.subOrder = append(s.api.subOrder, sub.ID)
	writeJSON(w, http.StatusOK, s.subscriptionJSON(sub))
}

func (s *Server) apiSubscription(w http.ResponseWriter, r *http.Request) *CallSubscription {
	id, ok := pathID(r)
	sub := s.api.subs[id]
	if !ok || sub == nil {
		writeError(w, http.StatusNotFound, "Call event subscription not found")
		return nil
	}
	return sub
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.apiSubscription(w, r); sub != nil {
		writeJSON(w, http.StatusOK, s.subscriptionJSON(sub))
	}
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	off, ok := decodeCursor("subscriptions", q.Get("cursor"))
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid cursor")
		return
	}
	var tid jsonx.Int64
	if v := q.Get("target_id"); v != "" {
		if err := tid.UnmarshalJSON([]byte(v)); err != nil {
			writeError(w, http.StatusBadRequest, "target_id must be an integer")
			return
		}
	}
	ttype := q.Get("target_type")
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*CallSubscription
	for _, id := range s.api.subOrder {
		sub := s.api.subs[id]
		if (ttype == "" || sub.TargetType == ttype) && (tid == 0 || sub.TargetID == int64(tid)) {
			all = append(all, sub)
		}
	}
	items := []any{}
	end := min(off+s.pageSize, len(all))
	for i := min(off, end); i < end; i++ {
		items = append(items, s.subscriptionJSON(all[i]))
	}
	out := map[string]any{"items": items}
	if end < len(all) {
		out["cursor"] = encodeCursor("subscriptions", end)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request) {
	var b subscriptionBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.apiSubscription(w, r)
	if sub == nil {
		return
	}
	if msg := s.validateSubscription(&b, false); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	b.apply(sub)
	writeJSON(w, http.StatusOK, s.subscriptionJSON(sub))
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.apiSubscription(w, r)
	if sub == nil {
		return
	}
	delete(s.api.subs, sub.ID)
	s.api.subOrder = slices.DeleteFunc(s.api.subOrder, func(v int64) bool { return v == sub.ID })
	writeJSON(w, http.StatusOK, s.subscriptionJSON(sub))
}
