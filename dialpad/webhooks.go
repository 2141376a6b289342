package dialpad

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// Webhook is a Dialpad webhook (WebhookProto): the URL events are sent to.
// A webhook alone receives nothing; an event subscription (for call events,
// CallSubscriptions) names it as its endpoint. IDs decode from JSON numbers
// and from numeric strings.
type Webhook struct {
	ID      int64  `json:"id"`
	HookURL string `json:"hook_url"`
	// Signature says how deliveries are signed: with a secret, every event
	// is an HS256 JWT signed with it; nil means unsigned JSON. Treat the
	// secret as write-only: Dialpad's reference examples echo it, but keep
	// the secret you set rather than rely on reading it back. Signature's
	// String method hides the secret.
	Signature *Signature `json:"signature,omitempty"`
}

// UnmarshalJSON accepts the id as a number or a numeric string.
func (w *Webhook) UnmarshalJSON(b []byte) error {
	type plain Webhook
	var v struct {
		plain
		ID jsonx.Int64 `json:"id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*w = Webhook(v.plain)
	w.ID = int64(v.ID)
	if w.Signature != nil && *w.Signature == (Signature{}) {
		w.Signature = nil
	}
	return nil
}

// CreateWebhookRequest is the body of Webhooks.Create (CreateWebhook).
type CreateWebhookRequest struct {
	// HookURL receives the events: an absolute http or https URL without
	// credentials in it (serve it with NewWebhookHandler). Required.
	HookURL string `json:"hook_url"`
	// Secret, when set, makes Dialpad send every event as an HS256 JWT
	// signed with it; pass the same secret to NewWebhookHandler. Without
	// one Dialpad sends plain JSON that anyone could forge. A single line;
	// use at least MinSecretLength random characters.
	Secret string `json:"secret,omitempty"`
}

// UpdateWebhookRequest is the body of Webhooks.Update (UpdateWebhook). Nil
// fields are left unchanged.
type UpdateWebhookRequest struct {
	HookURL *string `json:"hook_url,omitempty"`
	// Secret replaces the signing secret; deliveries are signed with the new
	// one from then on, so update the handler at the same time.
	Secret *string `json:"secret,omitempty"`
}

// WebhooksService manages the company's webhooks (/api/v2/webhooks). Get it
// from Client.Webhooks.
type WebhooksService struct{ c *Client }

// Webhooks returns the service managing the company's webhooks. Subscribe a
// webhook to call events with CallSubscriptions.
func (c *Client) Webhooks() *WebhooksService { return &WebhooksService{c: c} }

// Create creates a webhook. The request is validated first (an absolute
// http(s) hook_url without credentials, a single-line secret); bad input
// gets an error matching telephony.ErrInvalidRequest and nothing is sent.
// Like every create it is not repeated once it may have reached Dialpad: a
// lost answer is an error matching telephony.ErrOutcomeUnknown (list the
// webhooks to see whether it was created).
//
// API: POST /api/v2/webhooks (Dialpad: 100 per minute).
func (s *WebhooksService) Create(ctx context.Context, req CreateWebhookRequest) (*Webhook, error) {
	const op = "POST /api/v2/webhooks"
	if err := webhook.ValidateURL("hook_url", req.HookURL, "give the webhook a secret so deliveries are signed"); err != nil {
		return nil, invalid(op, "%v", err)
	}
	if req.Secret != "" {
		if err := validateWebhookSecret(req.Secret); err != nil {
			return nil, invalid(op, "%v", err)
		}
	}
	var out Webhook
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost, Path: "/api/v2/webhooks", Body: req, Out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns the webhook with the given id, or an error matching
// telephony.ErrNotFound.
//
// API: GET /api/v2/webhooks/{id}
func (s *WebhooksService) Get(ctx context.Context, id int64) (*Webhook, error) {
	const op = "GET /api/v2/webhooks/{id}"
	if id <= 0 {
		return nil, invalid(op, "webhook id %d must be positive", id)
	}
	var out Webhook
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: webhookPath(id), Route: "/api/v2/webhooks/{id}", Out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// List iterates over the company's webhooks, following Dialpad's cursor.
// Breaking out of the loop stops fetching; an error is yielded once and
// ends the sequence.
//
// API: GET /api/v2/webhooks
func (s *WebhooksService) List(ctx context.Context) iter.Seq2[Webhook, error] {
	return listCursor[Webhook](ctx, s.c, "/api/v2/webhooks", nil)
}

// Update changes the fields of req that are not nil; with none set it
// fails with telephony.ErrInvalidRequest and sends nothing.
//
// API: PATCH /api/v2/webhooks/{id}
func (s *WebhooksService) Update(ctx context.Context, id int64, req UpdateWebhookRequest) (*Webhook, error) {
	const op = "PATCH /api/v2/webhooks/{id}"
	if id <= 0 {
		return nil, invalid(op, "webhook id %d must be positive", id)
	}
	if req.HookURL == nil && req.Secret == nil {
		return nil, invalid(op, "nothing to update: hook_url and secret are both nil")
	}
	if req.HookURL != nil {
		if err := webhook.ValidateURL("hook_url", *req.HookURL, "give the webhook a secret so deliveries are signed"); err != nil {
			return nil, invalid(op, "%v", err)
		}
	}
	if req.Secret != nil {
		if err := validateWebhookSecret(*req.Secret); err != nil {
			return nil, invalid(op, "%v", err)
		}
	}
	var out Webhook
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPatch, Path: webhookPath(id), Route: "/api/v2/webhooks/{id}",
		Body: req, Out: &out, Idempotent: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes the webhook; Dialpad stops sending to it at once. A 404
// on a retry (an earlier attempt whose answer was lost deleted it) counts
// as success.
//
// API: DELETE /api/v2/webhooks/{id}
func (s *WebhooksService) Delete(ctx context.Context, id int64) error {
	const op = "DELETE /api/v2/webhooks/{id}"
	if id <= 0 {
		return invalid(op, "webhook id %d must be positive", id)
	}
	_, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodDelete, Path: webhookPath(id), Route: "/api/v2/webhooks/{id}"})
	return deletedOnRetry(err)
}

// deletedOnRetry turns a 404 answered to a repeated DELETE into success:
// the earlier attempt, whose answer was lost, did the deleting.
func deletedOnRetry(err error) error {
	var te *telephony.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound && te.Attempts > 1 {
		return nil
	}
	return err
}

func webhookPath(id int64) string { return "/api/v2/webhooks/" + strconv.FormatInt(id, 10) }

func validateWebhookSecret(secret string) error {
	if strings.TrimSpace(secret) == "" {
		return fmt.Errorf("secret is blank; leave it empty for unsigned events or set a real secret")
	}
	if strings.ContainsAny(secret, "\r\n") {
		return fmt.Errorf("secret must be a single line")
	}
	return nil
}
