package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

// The paths of the event endpoints.
const (
	justcallPath = "/justcall/callback"
	dialpadPath  = "/dialpad/events"
	aircallPath  = "/aircall/events"
)

// live builds the chosen provider's real client when its credentials are
// in the environment, and returns nil otherwise. Variables:
//
//	ADDR        listen address of the event endpoint (default :8080)
//	PUBLIC_URL  the public base URL at which the provider reaches ADDR,
//	            e.g. https://calls.example.com (an HTTPS tunnel or proxy)
//
//	JUSTCALL_API_KEY, JUSTCALL_API_SECRET
//	    -from is required (a number of the account). The status callbacks
//	    come to PUBLIC_URL/justcall/callback with a random token added.
//	DIALPAD_API_KEY, DIALPAD_WEBHOOK_SECRET
//	    -agent is the Dialpad user id. Create a webhook whose hook_url is
//	    PUBLIC_URL/dialpad/events with that secret (POST /api/v2/webhooks)
//	    and a call event subscription for it (POST
//	    /api/v2/subscriptions/call) first.
//	AIRCALL_API_ID, AIRCALL_API_TOKEN, AIRCALL_WEBHOOK_TOKEN
//	    -agent is the Aircall user id. Create a webhook on
//	    PUBLIC_URL/aircall/events with the call events, and set its token.
func live(cfg config, onEvent telephony.EventFunc) (*setup, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := []telephony.Option{telephony.WithLogger(logger)}
	var s *setup
	switch cfg.Provider {
	case telephony.ProviderJustCall:
		key, secret := os.Getenv("JUSTCALL_API_KEY"), os.Getenv("JUSTCALL_API_SECRET")
		if key == "" || secret == "" {
			return nil, nil
		}
		c, err := justcall.New(key, secret, opts...)
		if err != nil {
			return nil, err
		}
		h, err := callbackHandler(c, onEvent)
		if err != nil {
			return nil, err
		}
		s = &setup{client: c.Telephony(), path: justcallPath, handler: h, callback: true}
	case telephony.ProviderDialpad:
		key := os.Getenv("DIALPAD_API_KEY")
		if key == "" {
			return nil, nil
		}
		dp, err := dialpad.New(key, opts...)
		if err != nil {
			return nil, err
		}
		h, err := dialpad.NewWebhookHandler(onEvent, dialpad.WebhookOptions{Secret: os.Getenv("DIALPAD_WEBHOOK_SECRET"), Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("set DIALPAD_WEBHOOK_SECRET to the secret of the webhook on %s: %w", dialpadPath, err)
		}
		s = &setup{client: dp.Telephony(), path: dialpadPath, handler: h}
	case telephony.ProviderAircall:
		id, token := os.Getenv("AIRCALL_API_ID"), os.Getenv("AIRCALL_API_TOKEN")
		if id == "" || token == "" {
			return nil, nil
		}
		ac, err := aircall.New(id, token, opts...)
		if err != nil {
			return nil, err
		}
		h, err := aircall.NewWebhookHandler(onEvent, aircall.WebhookOptions{Secret: os.Getenv("AIRCALL_WEBHOOK_TOKEN"), Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("set AIRCALL_WEBHOOK_TOKEN to the token of the webhook on %s: %w", aircallPath, err)
		}
		s = &setup{client: ac.Telephony(), path: aircallPath, handler: h}
	default:
		return nil, fmt.Errorf("unknown provider %q: want justcall, dialpad or aircall", cfg.Provider)
	}
	if cfg.To == "" {
		return nil, errors.New("-to is required with real credentials: the customer's number, E.164")
	}
	public := strings.TrimRight(os.Getenv("PUBLIC_URL"), "/")
	if u, err := url.Parse(public); public == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("set PUBLIC_URL to the base URL at which the provider reaches this program (https://...)")
	}
	s.req = telephony.CallRequest{To: cfg.To, From: cfg.From, AgentID: cfg.Agent}
	s.addr, s.publicURL = envOr("ADDR", ":8080"), public
	s.close = func() {}
	return s, nil
}

// callbackHandler makes c put a fresh random token in every callback_url
// and returns the handler that checks it: JustCall does not sign its
// callbacks.
func callbackHandler(c *justcall.Client, onEvent telephony.EventFunc) (http.Handler, error) {
	token, err := justcall.NewCallbackToken()
	if err != nil {
		return nil, err
	}
	if err := c.SetCallbackToken(token); err != nil {
		return nil, err
	}
	h, err := justcall.NewCallbackHandler(onEvent, justcall.CallbackOptions{Secret: token})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return h, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
