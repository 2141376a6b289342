package justcall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// Webhook event types JustCall's v2.1 API accepts (the type enum of
// POST /v2.1/webhooks in JustCall's official MCP server). Other types are
// passed through as long as they look like "resource.action".
const (
	EventCallCompleted   = "call.completed"
	EventCallAnswered    = "call.answered"
	EventCallInitiated   = "call.initiated"
	EventCallIncoming    = "call.incoming"
	EventCallUpdated     = "call.updated"
	EventCallEntersQueue = "call.enters_queue"
	EventCallExitsQueue  = "call.exits_queue"
	EventCallVoicemail   = "call.voicemail"
	EventCallMissed      = "call.missed"
)

// Webhook is one URL subscribed to one JustCall event type. JustCall
// groups its subscriptions by type, each type with its webhook_urls; a
// Webhook is one of those URLs.
type Webhook struct {
	// URLID is the id JustCall gives this URL's subscription (url_id,
	// a string); Delete takes it.
	URLID string
	// Type is the event type, such as EventCallCompleted.
	Type string
	// URL receives the events.
	URL string
}

// CreateWebhookRequest is the body of Webhooks.Create. JustCall takes one
// event type per request: subscribe a URL to several types with several
// calls.
type CreateWebhookRequest struct {
	// URL receives the events: an absolute http or https URL without
	// credentials in it (serve it with NewWebhookHandler, which verifies
	// deliveries with the account's API secret). Required.
	URL string `json:"webhook_url"`
	// Type is the event type (EventCall... constants, or another
	// "resource.action" type JustCall documents). Required.
	Type string `json:"type"`
}

// ListWebhooksOptions filters Webhooks.List.
type ListWebhooksOptions struct {
	// Type lists only the URLs subscribed to this event type.
	Type string
}

// WebhooksService manages the account's webhook subscriptions
// (/v2.1/webhooks). Get it from Client.Webhooks.
//
// What is verified and what is not: JustCall's official MCP server lists
// GET /v2.1/webhooks (filter type) and POST /v2.1/webhooks with
// {webhook_url, type}. The answers' shape (data holding the type with its
// webhook_urls[] of url_id and URL) and the removal endpoint
// (DELETE /v2.1/webhooks/url/{url_id}, "Remove URL from webhook") come
// from third-party code, not from JustCall's own reference, and have not
// been checked against a live account. JustCall documents no get or
// update of a webhook: to change a URL, create the new one and delete the
// old one. Webhooks need JustCall's Team plan or above.
type WebhooksService struct{ c *Client }

// Webhooks returns the service managing the account's webhook
// subscriptions.
func (c *Client) Webhooks() *WebhooksService { return &WebhooksService{c: c} }

// wireWebhookGroup is one event type with its URLs, as the answers of
// /v2.1/webhooks carry it (unverified; see WebhooksService).
type wireWebhookGroup struct {
	Type        string           `json:"type"`
	WebhookURLs []wireWebhookURL `json:"webhook_urls"`
}

type wireWebhookURL struct {
	URLID      jsonx.String `json:"url_id"`
	URL        string       `json:"url"`
	WebhookURL string       `json:"webhook_url"`
}

// webhooksAnswer decodes {"data": group} or {"data": [group, ...]} into
// one Webhook per URL; a body it cannot read fails the request through the
// transport's usual error.
type webhooksAnswer struct{ list []Webhook }

// UnmarshalJSON implements json.Unmarshaler.
func (a *webhooksAnswer) UnmarshalJSON(b []byte) error {
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	data := bytes.TrimSpace(env.Data)
	var groups []wireWebhookGroup
	switch {
	case len(data) == 0 || string(data) == "null":
	case data[0] == '[':
		if err := json.Unmarshal(data, &groups); err != nil {
			return err
		}
	default:
		var g wireWebhookGroup
		if err := json.Unmarshal(data, &g); err != nil {
			return err
		}
		groups = []wireWebhookGroup{g}
	}
	a.list = nil
	for _, g := range groups {
		for _, u := range g.WebhookURLs {
			a.list = append(a.list, Webhook{URLID: string(u.URLID), Type: g.Type, URL: firstNonEmpty(u.URL, u.WebhookURL)})
		}
	}
	return nil
}

// Create subscribes URL to one event type and returns the subscription
// with its URLID. The request is validated first (an absolute http(s) URL
// without credentials, a "resource.action" type); bad input gets an error
// matching telephony.ErrInvalidRequest and nothing is sent. A lost answer
// is an error matching telephony.ErrOutcomeUnknown and the request is not
// repeated (List shows whether it was created).
//
// API: POST /v2.1/webhooks
func (s *WebhooksService) Create(ctx context.Context, req CreateWebhookRequest) (*Webhook, error) {
	const op = "POST /v2.1/webhooks"
	if err := webhook.ValidateURL("webhook_url", req.URL, "deliveries are signed with the API secret"); err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, op, "%v", err)
	}
	if err := validateEventType(req.Type); err != nil {
		return nil, telephony.InvalidArgument(telephony.ProviderJustCall, op, "%v", err)
	}
	var out webhooksAnswer
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost, Path: "/v2.1/webhooks", Body: req, Out: &out}); err != nil {
		return nil, err
	}
	for _, w := range out.list {
		if w.URL == req.URL && (w.Type == req.Type || w.Type == "") {
			w.Type = req.Type
			return &w, nil
		}
	}
	// The answer did not name the URL: report what was asked for.
	return &Webhook{Type: req.Type, URL: req.URL}, nil
}

// List iterates over the account's webhook subscriptions, one Webhook per
// URL and event type, optionally of one type. The whole list comes in one
// answer (JustCall documents no paging for it). An error is yielded once
// and ends the sequence.
//
// API: GET /v2.1/webhooks
func (s *WebhooksService) List(ctx context.Context, opts *ListWebhooksOptions) iter.Seq2[Webhook, error] {
	const op = "GET /v2.1/webhooks"
	q := url.Values{}
	if opts != nil && opts.Type != "" {
		if err := validateEventType(opts.Type); err != nil {
			err = telephony.InvalidArgument(telephony.ProviderJustCall, op, "%v", err)
			return func(yield func(Webhook, error) bool) { yield(Webhook{}, err) }
		}
		q.Set("type", opts.Type)
	}
	return func(yield func(Webhook, error) bool) {
		var out webhooksAnswer
		if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/v2.1/webhooks", Query: q, Out: &out}); err != nil {
			yield(Webhook{}, err)
			return
		}
		for _, w := range out.list {
			if !yield(w, nil) {
				return
			}
		}
	}
}

// Delete removes one URL's subscription by its URLID. A 404 on a retry
// (an earlier attempt whose answer was lost removed it) counts as
// success. The endpoint comes from third-party code (see
// WebhooksService).
//
// API: DELETE /v2.1/webhooks/url/{url_id}
func (s *WebhooksService) Delete(ctx context.Context, urlID string) error {
	const route = "/v2.1/webhooks/url/{url_id}"
	if strings.TrimSpace(urlID) == "" || strings.ContainsAny(urlID, "/?#\r\n ") {
		return telephony.InvalidArgument(telephony.ProviderJustCall, "DELETE "+route, "url_id must be a non-empty id without '/', '?', '#' or spaces")
	}
	_, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodDelete, Path: "/v2.1/webhooks/url/" + url.PathEscape(urlID), Route: route})
	var te *telephony.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound && te.Attempts > 1 {
		return nil
	}
	return err
}

func validateEventType(t string) error {
	if t == "" {
		return errors.New("type is required: the event type, such as call.completed (one per request)")
	}
	res, action, ok := strings.Cut(t, ".")
	if !ok || res == "" || action == "" || strings.ContainsAny(t, " \t\r\n,") {
		return fmt.Errorf("type %q is not a JustCall event type (resource.action, such as call.completed; one per request)", t)
	}
	return nil
}
