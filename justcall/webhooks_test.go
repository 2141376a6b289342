package justcall_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func listWebhooks(t *testing.T, c *justcall.Client, opts *justcall.ListWebhooksOptions) []justcall.Webhook {
	t.Helper()
	var out []justcall.Webhook
	for w, err := range c.Webhooks().List(t.Context(), opts) {
		require.NoError(t, err)
		out = append(out, w)
	}
	return out
}

// Webhook subscriptions go through create, list (all and by type) and
// delete against the simulator. JustCall documents no get or update.
func TestWebhooksRoundTrip(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	ctx := t.Context()
	const hook = "https://example.com/jc/events"

	done, err := c.Webhooks().Create(ctx, justcall.CreateWebhookRequest{URL: hook, Type: justcall.EventCallCompleted})
	require.NoError(t, err)
	assert.NotEmpty(t, done.URLID)
	assert.Equal(t, justcall.Webhook{URLID: done.URLID, Type: "call.completed", URL: hook}, *done)
	missed, err := c.Webhooks().Create(ctx, justcall.CreateWebhookRequest{URL: hook, Type: justcall.EventCallMissed})
	require.NoError(t, err)
	other, err := c.Webhooks().Create(ctx, justcall.CreateWebhookRequest{URL: "http://127.0.0.1:9/other", Type: justcall.EventCallCompleted})
	require.NoError(t, err)
	assert.NotEqual(t, done.URLID, other.URLID, "each URL of a type has its own url_id")

	assert.ElementsMatch(t, []justcall.Webhook{*done, *missed, *other}, listWebhooks(t, c, nil))
	assert.ElementsMatch(t, []justcall.Webhook{*done, *other}, listWebhooks(t, c, &justcall.ListWebhooksOptions{Type: justcall.EventCallCompleted}))
	assert.Equal(t, "call.completed", sim.Requests()[len(sim.Requests())-1].Query.Get("type"))

	require.NoError(t, c.Webhooks().Delete(ctx, done.URLID))
	assert.ElementsMatch(t, []justcall.Webhook{*missed, *other}, listWebhooks(t, c, nil))
	assert.ErrorIs(t, c.Webhooks().Delete(ctx, done.URLID), telephony.ErrNotFound)
	assert.Len(t, sim.RegisteredWebhooks(), 2)
}

// A webhook registered through the client receives the events of its
// type that the simulator emits, signed with the account's API secret,
// which the handler verifies; other types are not sent to it.
func TestWebhookRegisteredReceivesCallEvents(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	ctx := t.Context()
	call, err := c.Calls.Make(ctx, justcall.MakeCallRequest{From: from, To: customer})
	require.NoError(t, err)

	var mu sync.Mutex
	var got []telephony.CallEvent
	hh, err := justcall.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		return nil
	}, justcall.WebhookOptions{Secret: justcalltest.APISecret})
	require.NoError(t, err)
	h := hh
	srv := httptest.NewServer(h)
	defer srv.Close()

	wh, err := c.Webhooks().Create(ctx, justcall.CreateWebhookRequest{URL: srv.URL + "/jc", Type: justcall.EventCallCompleted})
	require.NoError(t, err)

	n, err := sim.EmitCallEvent("call.answered", call.CallID)
	require.NoError(t, err)
	assert.Zero(t, n, "nobody registered call.answered")
	n, err = sim.EmitCallEvent("call.completed", call.CallID)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, h.Close(ctx))

	var hooks []justcalltest.Delivery
	for _, d := range sim.Deliveries() {
		if d.Kind == "webhook" {
			hooks = append(hooks, d)
		}
	}
	require.Len(t, hooks, 1)
	assert.Equal(t, http.StatusOK, hooks[0].StatusCode, "delivery %+v", hooks[0])
	assert.Equal(t, wh.URL, hooks[0].URL)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	assert.Equal(t, call.CallID, got[0].CallID)
	assert.Equal(t, "call.completed", got[0].Type)
	assert.Equal(t, telephony.StatusCompleted, got[0].Status)
}

// Bad input is refused with ErrInvalidRequest before anything is sent.
func TestWebhooksInvalidInputSendsNothing(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	ctx := t.Context()
	create := func(req justcall.CreateWebhookRequest) func() error {
		return func() error { _, err := c.Webhooks().Create(ctx, req); return err }
	}
	cases := map[string]func() error{
		"empty url":          create(justcall.CreateWebhookRequest{Type: justcall.EventCallCompleted}),
		"relative url":       create(justcall.CreateWebhookRequest{URL: "/jc", Type: justcall.EventCallCompleted}),
		"non-http url":       create(justcall.CreateWebhookRequest{URL: "ws://example.com/jc", Type: justcall.EventCallCompleted}),
		"credentials in url": create(justcall.CreateWebhookRequest{URL: "https://u:secretpw@example.com/jc", Type: justcall.EventCallCompleted}),
		"no type":            create(justcall.CreateWebhookRequest{URL: "https://example.com/jc"}),
		"two types":          create(justcall.CreateWebhookRequest{URL: "https://example.com/jc", Type: "call.completed,call.missed"}),
		"bad type":           create(justcall.CreateWebhookRequest{URL: "https://example.com/jc", Type: "completed"}),
		"list bad type": func() error {
			for _, err := range c.Webhooks().List(ctx, &justcall.ListWebhooksOptions{Type: "nope"}) {
				return err
			}
			return nil
		},
		"delete empty id": func() error { return c.Webhooks().Delete(ctx, "") },
		"delete path id":  func() error { return c.Webhooks().Delete(ctx, "../users") },
	}
	for name, fn := range cases {
		err := fn()
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, name)
		var te *telephony.Error
		assert.ErrorAs(t, err, &te, name)
		if err != nil {
			assert.NotContains(t, err.Error(), "secretpw", name)
		}
	}
	assert.Zero(t, sim.Count("", "/v2.1/webhooks"), "nothing sent")
}
