package aircall_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/telephony"
)

// hookReceiver is a WebhookHandler behind an httptest server that can be
// made to fail (500) to get the webhook deactivated.
type hookReceiver struct {
	h       *aircall.WebhookHandler
	srv     *httptest.Server
	failing atomic.Bool

	mu     sync.Mutex
	events []string // event names, as received
}

func newHookReceiver(t *testing.T, token string) *hookReceiver {
	t.Helper()
	r := &hookReceiver{}
	hh, err := aircall.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, ev.Type)
		return nil
	}, aircall.WebhookOptions{Secret: token})
	require.NoError(t, err)
	r.h = hh
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		r.h.ServeHTTP(w, req)
	}))
	t.Cleanup(func() {
		r.srv.Close()
		_ = r.h.Close(context.Background())
	})
	return r
}

// got waits for n events (the handler runs them in the background) and
// returns them sorted by arrival.
func (r *hookReceiver) got(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		out = append([]string(nil), r.events...)
		return len(out) >= n
	}, 5*time.Second, 5*time.Millisecond, "want %d events", n)
	return out
}

// A webhook goes through create, list (across pages), get, update and
// delete against the simulator; creation returns the token.
func TestWebhooksRoundTrip(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	ctx := t.Context()

	wh, err := c.Webhooks().Create(ctx, aircall.CreateWebhookRequest{
		CustomName: "CRM sync", URL: "https://example.com/aircall", Events: []string{aircall.EventCallCreated, aircall.EventCallEnded},
	})
	require.NoError(t, err)
	require.NotEmpty(t, wh.ID)
	assert.NotEmpty(t, wh.Token, "creation returns the token deliveries carry")
	assert.True(t, wh.Active)
	assert.Equal(t, "CRM sync", wh.CustomName)
	assert.Equal(t, []string{"call.created", "call.ended"}, wh.Events)
	assert.NotContains(t, wh.String(), wh.Token, "String hides the token")
	second, err := c.Webhooks().Create(ctx, aircall.CreateWebhookRequest{URL: "http://127.0.0.1:9/x", Events: []string{"call.answered"}})
	require.NoError(t, err)
	assert.NotEqual(t, wh.Token, second.Token)

	var ids []string
	for w, err := range c.Webhooks().List(ctx, &aircall.ListOptions{PerPage: 1}) {
		require.NoError(t, err)
		ids = append(ids, w.ID)
	}
	assert.Equal(t, []string{wh.ID, second.ID}, ids, "both webhooks, over two pages")

	got, err := c.Webhooks().Get(ctx, wh.ID)
	require.NoError(t, err)
	assert.Equal(t, wh.URL, got.URL)
	assert.Equal(t, wh.Token, got.Token)

	name := "CRM sync v2"
	upd, err := c.Webhooks().Update(ctx, wh.ID, aircall.UpdateWebhookRequest{CustomName: &name, Events: []string{aircall.EventCallHungup}})
	require.NoError(t, err)
	assert.Equal(t, name, upd.CustomName)
	assert.Equal(t, []string{"call.hungup"}, upd.Events)
	assert.Equal(t, wh.URL, upd.URL, "unchanged")

	require.NoError(t, c.Webhooks().Delete(ctx, wh.ID))
	_, err = c.Webhooks().Get(ctx, wh.ID)
	assert.ErrorIs(t, err, telephony.ErrNotFound)
	assert.Len(t, sim.APIWebhooks(), 1)
}

// A webhook created through the client receives the simulated call's
// events it subscribed to, carrying the token creation returned, which
// the handler verifies.
func TestWebhookCreatedReceivesCallEvents(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	ctx := t.Context()
	agent := sim.SeedUsers(1)[0]

	// The token is known only after creation, so the receiver's URL comes
	// first: create the webhook at a placeholder, then point it there.
	wh, err := c.Webhooks().Create(ctx, aircall.CreateWebhookRequest{URL: "https://example.invalid/pending",
		Events: []string{aircall.EventCallCreated, aircall.EventCallAnswered, aircall.EventCallEnded}})
	require.NoError(t, err)
	rcv := newHookReceiver(t, wh.Token)
	_, err = c.Webhooks().Update(ctx, wh.ID, aircall.UpdateWebhookRequest{URL: &rcv.srv.URL})
	require.NoError(t, err)

	id := sim.SimulateInboundCall("+33612345678", "+33 1 00 00 00 00")
	require.NoError(t, sim.AnswerCall(id, agent.ID))
	require.NoError(t, sim.HangUp(id))

	assert.ElementsMatch(t, []string{"call.created", "call.answered", "call.ended"}, rcv.got(t, 3), "call.hungup is not subscribed")
	for _, d := range sim.Deliveries() {
		assert.Equal(t, wh.ID, d.WebhookID)
		assert.Equal(t, http.StatusOK, d.Status, "delivery %+v", d)
	}
	assert.Zero(t, rcv.h.Stats().RejectedTotal(), "every delivery carried the right token")
}

// A webhook whose URL keeps failing is deactivated by the simulator, as
// Aircall does; once the receiver is fixed, Reenable brings the events
// back.
func TestWebhookDeactivatedReenabledReceivesAgain(t *testing.T) {
	sim := newSim(t)
	sim.SetWebhookFailureLimit(2)
	c := newClient(t, sim)
	ctx := t.Context()

	wh, err := c.Webhooks().Create(ctx, aircall.CreateWebhookRequest{URL: "https://example.invalid/pending", Events: []string{aircall.EventCallCreated}})
	require.NoError(t, err)
	rcv := newHookReceiver(t, wh.Token)
	_, err = c.Webhooks().Update(ctx, wh.ID, aircall.UpdateWebhookRequest{URL: &rcv.srv.URL})
	require.NoError(t, err)

	rcv.failing.Store(true)
	sim.SimulateInboundCall("+33612345678", "+33 1 00 00 00 00")
	sim.SimulateInboundCall("+33612345679", "+33 1 00 00 00 00")
	got, err := c.Webhooks().Get(ctx, wh.ID)
	require.NoError(t, err)
	require.False(t, got.Active, "two failures in a row deactivate the webhook")

	rcv.failing.Store(false)
	sim.SimulateInboundCall("+33612345670", "+33 1 00 00 00 00")
	assert.Len(t, sim.Deliveries(), 2, "a deactivated webhook receives nothing")

	re, err := c.Webhooks().Reenable(ctx, wh.ID)
	require.NoError(t, err)
	assert.True(t, re.Active)
	sim.SimulateInboundCall("+33612345671", "+33 1 00 00 00 00")
	assert.Equal(t, []string{"call.created"}, rcv.got(t, 1))
	ds := sim.Deliveries()
	require.Len(t, ds, 3)
	assert.Equal(t, http.StatusOK, ds[2].Status)
}

// Bad input is refused with ErrInvalidRequest before anything is sent.
func TestWebhooksInvalidInputSendsNothing(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	ctx := t.Context()
	events := []string{aircall.EventCallCreated}
	create := func(req aircall.CreateWebhookRequest) func() error {
		return func() error { _, err := c.Webhooks().Create(ctx, req); return err }
	}
	cases := map[string]func() error{
		"empty url":          create(aircall.CreateWebhookRequest{Events: events}),
		"relative url":       create(aircall.CreateWebhookRequest{URL: "/hook", Events: events}),
		"non-http url":       create(aircall.CreateWebhookRequest{URL: "ftp://example.com/hook", Events: events}),
		"credentials in url": create(aircall.CreateWebhookRequest{URL: "https://u:secretpw@example.com/hook", Events: events}),
		"no events":          create(aircall.CreateWebhookRequest{URL: "https://example.com/hook"}),
		"bad event":          create(aircall.CreateWebhookRequest{URL: "https://example.com/hook", Events: []string{"created"}}),
		"multi-line name":    create(aircall.CreateWebhookRequest{URL: "https://example.com/hook", Events: events, CustomName: "a\nb"}),
		"update nothing": func() error {
			_, err := c.Webhooks().Update(ctx, "abc", aircall.UpdateWebhookRequest{})
			return err
		},
		"update empty events": func() error {
			_, err := c.Webhooks().Update(ctx, "abc", aircall.UpdateWebhookRequest{Events: []string{}})
			return err
		},
		"get empty id": func() error {
			_, err := c.Webhooks().Get(ctx, "")
			return err
		},
		"reenable path id": func() error {
			_, err := c.Webhooks().Reenable(ctx, "../users")
			return err
		},
		"delete empty id": func() error { return c.Webhooks().Delete(ctx, " ") },
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
	assert.Zero(t, sim.Count("", "/v1/webhooks"), "nothing sent")
	assert.Empty(t, sim.APIWebhooks())
}
