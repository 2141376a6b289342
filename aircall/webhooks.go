package aircall

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// Call events a webhook can subscribe to. The first four are the ones
// Aircall's webhooks overview documents; Aircall has more (users, numbers,
// contacts, messages, ...), and any "resource.action" name is accepted.
const (
	EventCallCreated        = "call.created"
	EventCallRingingOnAgent = "call.ringing_on_agent"
	EventCallAnswered       = "call.answered"
	EventCallTransferred    = "call.transferred"
	EventCallHungup         = "call.hungup"
	EventCallEnded          = "call.ended"
	EventCallVoicemailLeft  = "call.voicemail_left"
)

// Webhook is an Aircall webhook: the URL that receives the events it
// subscribes to, each carrying Token.
type Webhook struct {
	// ID is Aircall's webhook_id (a UUID string).
	ID         string `json:"webhook_id"`
	DirectLink string `json:"direct_link,omitempty"`
	CreatedAt  string `json:"created_at,omitempty"` // ISO 8601, as Aircall sends it
	CustomName string `json:"custom_name,omitempty"`
	URL        string `json:"url"`
	// Active is false once Aircall deactivated the webhook (its URL kept
	// failing) or it was paused; it then receives nothing. Reenable turns
	// it back on.
	Active bool `json:"active"`
	// Token is the secret every delivery carries in its body: pass it to
	// NewWebhookHandler. Keep it out of logs; String hides it.
	Token  string   `json:"token,omitempty"`
	Events []string `json:"events"`
}

// String describes the webhook without its token.
func (w Webhook) String() string {
	tok := "none"
	if w.Token != "" {
		tok = "set"
	}
	return fmt.Sprintf("{id:%s name:%q url:%s active:%v events:%v token:%s}", w.ID, w.CustomName, w.URL, w.Active, w.Events, tok)
}

// CreateWebhookRequest is the body of Webhooks.Create.
type CreateWebhookRequest struct {
	// CustomName labels the webhook in the dashboard. Optional.
	CustomName string `json:"custom_name,omitempty"`
	// URL receives the events: an absolute http or https URL without
	// credentials in it (serve it with NewWebhookHandler). Required.
	URL string `json:"url"`
	// Events are the events sent (EventCall... constants or any
	// "resource.action" name). At least one.
	Events []string `json:"events"`
}

// UpdateWebhookRequest is the body of Webhooks.Update. Nil fields are left
// unchanged.
type UpdateWebhookRequest struct {
	CustomName *string `json:"custom_name,omitempty"`
	URL        *string `json:"url,omitempty"`
	// Events, when not nil, replaces the events (at least one).
	Events []string `json:"events,omitempty"`
	// Active true re-enables a webhook Aircall deactivated; false pauses it.
	Active *bool `json:"active,omitempty"`
}

// WebhooksService is the /v1/webhooks resource. Get it from
// Client.Webhooks.
type WebhooksService struct{ c *Client }

// Webhooks returns the service managing the company's webhooks.
func (c *Client) Webhooks() *WebhooksService { return &WebhooksService{c: c} }

type webhooksPage struct {
	Webhooks []Webhook `json:"webhooks"`
	Meta     Meta      `json:"meta"`
}

func (p *webhooksPage) records() []Webhook { return p.Webhooks }
func (p *webhooksPage) meta() Meta         { return p.Meta }

// Create creates a webhook and returns it with its Token, which every
// delivery carries: give it to NewWebhookHandler. The request is validated
// first (an absolute http(s) URL without credentials, at least one event,
// a single-line name); bad input gets an error matching
// telephony.ErrInvalidRequest and nothing is sent. A lost answer is an
// error matching telephony.ErrOutcomeUnknown and the request is not
// repeated (list the webhooks to see whether it was created).
//
// API: POST /v1/webhooks
func (s *WebhooksService) Create(ctx context.Context, req CreateWebhookRequest) (*Webhook, error) {
	o := op(http.MethodPost, "/v1/webhooks")
	if err := webhook.ValidateURL("url", req.URL, "deliveries carry the webhook's token"); err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, o, "%v", err)
	}
	if err := validateEvents(req.Events); err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, o, "%v", err)
	}
	if strings.ContainsAny(req.CustomName, "\r\n") {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, o, "custom_name must be a single line")
	}
	var out struct {
		Webhook Webhook `json:"webhook"`
	}
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost, Path: "/v1/webhooks", Body: req, Out: &out}); err != nil {
		return nil, err
	}
	return &out.Webhook, nil
}

// Get returns one webhook, or an error matching telephony.ErrNotFound.
//
// API: GET /v1/webhooks/{id}
func (s *WebhooksService) Get(ctx context.Context, id string) (*Webhook, error) {
	const route = "/v1/webhooks/{id}"
	if err := validateWebhookID(id); err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op(http.MethodGet, route), "%v", err)
	}
	var out struct {
		Webhook Webhook `json:"webhook"`
	}
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: webhookPath(id), Route: route, Out: &out}); err != nil {
		return nil, err
	}
	return &out.Webhook, nil
}

// List iterates over the company's webhooks, following
// meta.next_page_link as the loop advances; breaking out stops fetching.
// An error is yielded once and ends the sequence.
//
// API: GET /v1/webhooks
func (s *WebhooksService) List(ctx context.Context, opts *ListOptions) iter.Seq2[Webhook, error] {
	return list[Webhook, webhooksPage](ctx, s.c, "/v1/webhooks", opts)
}

// Update changes the fields of req that are not nil (with none set it
// fails with telephony.ErrInvalidRequest and sends nothing).
//
// API: PUT /v1/webhooks/{id}
func (s *WebhooksService) Update(ctx context.Context, id string, req UpdateWebhookRequest) (*Webhook, error) {
	const route = "/v1/webhooks/{id}"
	o := op(http.MethodPut, route)
	bad := func(err error) error { return telephony.InvalidArgument(telephony.ProviderAircall, o, "%v", err) }
	if err := validateWebhookID(id); err != nil {
		return nil, bad(err)
	}
	if req.CustomName == nil && req.URL == nil && req.Events == nil && req.Active == nil {
		return nil, bad(errors.New("nothing to update: every field is nil"))
	}
	if req.URL != nil {
		if err := webhook.ValidateURL("url", *req.URL, "deliveries carry the webhook's token"); err != nil {
			return nil, bad(err)
		}
	}
	if req.Events != nil {
		if err := validateEvents(req.Events); err != nil {
			return nil, bad(err)
		}
	}
	if req.CustomName != nil && strings.ContainsAny(*req.CustomName, "\r\n") {
		return nil, bad(errors.New("custom_name must be a single line"))
	}
	var out struct {
		Webhook Webhook `json:"webhook"`
	}
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPut, Path: webhookPath(id), Route: route, Body: req, Out: &out}); err != nil {
		return nil, err
	}
	return &out.Webhook, nil
}

// Reenable turns a deactivated webhook back on (PUT with active=true).
// Aircall deactivates a webhook whose URL keeps failing; fix the receiver
// first, or it is deactivated again.
//
// API: PUT /v1/webhooks/{id}
func (s *WebhooksService) Reenable(ctx context.Context, id string) (*Webhook, error) {
	active := true
	return s.Update(ctx, id, UpdateWebhookRequest{Active: &active})
}

// Delete deletes the webhook; Aircall stops sending to it. A 404 on a
// retry (an earlier attempt whose answer was lost deleted it) counts as
// success.
//
// API: DELETE /v1/webhooks/{id}
func (s *WebhooksService) Delete(ctx context.Context, id string) error {
	const route = "/v1/webhooks/{id}"
	if err := validateWebhookID(id); err != nil {
		return telephony.InvalidArgument(telephony.ProviderAircall, op(http.MethodDelete, route), "%v", err)
	}
	_, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodDelete, Path: webhookPath(id), Route: route})
	var te *telephony.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound && te.Attempts > 1 {
		return nil
	}
	return err
}

func webhookPath(id string) string { return "/v1/webhooks/" + url.PathEscape(id) }

func validateWebhookID(id string) error {
	if strings.TrimSpace(id) == "" {
		return errors.New("webhook id is empty")
	}
	if strings.ContainsAny(id, "/?#\r\n ") {
		return errors.New("webhook id must not contain '/', '?', '#' or spaces")
	}
	return nil
}

func validateEvents(events []string) error {
	if len(events) == 0 {
		return errors.New("events is empty: name at least one event (call.created, call.ended, ...)")
	}
	for _, e := range events {
		res, action, ok := strings.Cut(e, ".")
		if !ok || res == "" || action == "" || strings.ContainsAny(e, " \t\r\n") {
			return fmt.Errorf("event %q is not an Aircall event name (resource.action, such as call.created)", e)
		}
	}
	return nil
}
