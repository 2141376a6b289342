package dialpad_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/telephony"
)

// collect drains a listing, failing on its error.
func collect[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

// A webhook goes through create, list (across pages), get, update and
// delete against the simulator.
func TestWebhooksRoundTrip(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SetPageSize(1)
	ctx := t.Context()

	wh, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: "https://example.com/dialpad/events", Secret: testSecret})
	require.NoError(t, err)
	require.Positive(t, wh.ID)
	assert.Equal(t, "https://example.com/dialpad/events", wh.HookURL)
	require.NotNil(t, wh.Signature)
	assert.Equal(t, "jwt", wh.Signature.Type)
	assert.NotContains(t, wh.Signature.String(), testSecret, "Signature.String must hide the secret")
	other, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: "http://127.0.0.1:9/unsigned"})
	require.NoError(t, err)
	assert.Nil(t, other.Signature, "a webhook without a secret has no signature")

	all := collect(t, c.Webhooks().List(ctx))
	require.Len(t, all, 2, "both webhooks, over two pages")
	assert.Equal(t, []int64{wh.ID, other.ID}, []int64{all[0].ID, all[1].ID})

	got, err := c.Webhooks().Get(ctx, wh.ID)
	require.NoError(t, err)
	assert.Equal(t, wh.HookURL, got.HookURL)

	newURL := "https://example.com/dialpad/v2"
	upd, err := c.Webhooks().Update(ctx, wh.ID, dialpad.UpdateWebhookRequest{HookURL: &newURL})
	require.NoError(t, err)
	assert.Equal(t, newURL, upd.HookURL)
	assert.Equal(t, newURL, srv.APIWebhooks()[0].HookURL)
	assert.Equal(t, testSecret, srv.APIWebhooks()[0].Secret, "an update without a secret keeps it")

	require.NoError(t, c.Webhooks().Delete(ctx, wh.ID))
	_, err = c.Webhooks().Get(ctx, wh.ID)
	assert.ErrorIs(t, err, telephony.ErrNotFound)
	assert.ErrorIs(t, c.Webhooks().Delete(ctx, wh.ID), telephony.ErrNotFound, "a first DELETE of a missing webhook is not success")
	assert.Len(t, srv.APIWebhooks(), 1)
}

// A call subscription goes through create, list (filtered by target), get,
// update and delete.
func TestCallSubscriptionsRoundTrip(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := t.Context()
	wh, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: "https://example.com/events", Secret: testSecret})
	require.NoError(t, err)

	sub, err := c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{
		EndpointID: wh.ID, CallStates: []string{dialpad.CallStateConnected, dialpad.CallStateHangup},
	})
	require.NoError(t, err)
	require.Positive(t, sub.ID)
	assert.True(t, sub.Enabled, "enabled by default")
	assert.Equal(t, []string{"connected", "hangup"}, sub.CallStates)
	require.NotNil(t, sub.Webhook)
	assert.Equal(t, wh.ID, sub.Webhook.ID)

	scoped, err := c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{
		EndpointID: wh.ID, CallStates: []string{dialpad.CallStateAll}, TargetID: 42, TargetType: dialpad.TargetTypeUser,
		Enabled: ptr(false),
	})
	require.NoError(t, err)
	assert.False(t, scoped.Enabled)
	assert.Equal(t, int64(42), scoped.TargetID)

	assert.Len(t, collect(t, c.CallSubscriptions().List(ctx, nil)), 2)
	mine := collect(t, c.CallSubscriptions().List(ctx, &dialpad.ListCallSubscriptionsOptions{TargetID: 42, TargetType: dialpad.TargetTypeUser}))
	require.Len(t, mine, 1)
	assert.Equal(t, scoped.ID, mine[0].ID)

	got, err := c.CallSubscriptions().Get(ctx, sub.ID)
	require.NoError(t, err)
	assert.Equal(t, sub.CallStates, got.CallStates)

	upd, err := c.CallSubscriptions().Update(ctx, sub.ID, dialpad.UpdateCallSubscriptionRequest{
		CallStates: []string{dialpad.CallStateHangup}, Enabled: ptr(false),
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"hangup"}, upd.CallStates)
	assert.False(t, upd.Enabled)

	require.NoError(t, c.CallSubscriptions().Delete(ctx, sub.ID))
	_, err = c.CallSubscriptions().Get(ctx, sub.ID)
	assert.ErrorIs(t, err, telephony.ErrNotFound)
	assert.Len(t, srv.CallSubscriptions(), 1)
}

// A webhook and a call subscription created through the client drive the
// simulator's deliveries: the handler verifies them with the secret given
// at creation, and only the subscribed states arrive; a disabled
// subscription sends nothing.
func TestWebhookSubscriptionReceivesCallEvents(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := t.Context()
	agent := srv.SeedUsers(1)[0]

	var mu sync.Mutex
	var got []telephony.CallEvent
	h, err := dialpad.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		return nil
	}, dialpad.WebhookOptions{Secret: testSecret})
	require.NoError(t, err)
	hs := httptest.NewServer(h)
	defer hs.Close()

	wh, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: hs.URL, Secret: testSecret})
	require.NoError(t, err)
	sub, err := c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{
		EndpointID: wh.ID, CallStates: []string{dialpad.CallStateConnected, dialpad.CallStateHangup},
		TargetID: agent.ID, TargetType: dialpad.TargetTypeUser,
	})
	require.NoError(t, err)

	call, err := c.Calls.Initiate(ctx, dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: agent.ID})
	require.NoError(t, err)
	require.NoError(t, srv.SetCallState(call.CallID, "ringing"))
	require.NoError(t, srv.SetCallState(call.CallID, "connected"))
	require.NoError(t, srv.SetCallState(call.CallID, "hangup"))
	srv.FlushEvents()

	// Paused: the next call's events are not sent.
	_, err = c.CallSubscriptions().Update(ctx, sub.ID, dialpad.UpdateCallSubscriptionRequest{Enabled: ptr(false)})
	require.NoError(t, err)
	call2, err := c.Calls.Initiate(ctx, dialpad.InitiateCallRequest{PhoneNumber: "+14155550101", UserID: agent.ID})
	require.NoError(t, err)
	require.NoError(t, srv.SetCallState(call2.CallID, "connected"))
	srv.FlushEvents()
	require.NoError(t, h.Close(ctx))

	var states []string
	for _, d := range srv.Deliveries() {
		assert.Equal(t, wh.ID, d.WebhookID)
		assert.Equal(t, call.CallID, d.CallID, "only the first call's events")
		assert.Equal(t, 200, d.Status, "delivery %+v", d)
		assert.True(t, d.Signed)
		states = append(states, d.State)
	}
	assert.Equal(t, []string{"connected", "hangup"}, states, "calling and ringing are not subscribed")

	mu.Lock()
	defer mu.Unlock()
	var statuses []telephony.CallStatus
	for _, ev := range got {
		assert.Equal(t, itoa(call.CallID), ev.CallID)
		statuses = append(statuses, ev.Status)
	}
	sort.Slice(statuses, func(i, j int) bool { return statuses[i] < statuses[j] })
	assert.Equal(t, []telephony.CallStatus{telephony.StatusCompleted, telephony.StatusInProgress}, statuses)
}

// Bad input is refused with ErrInvalidRequest before anything is sent.
func TestWebhooksInvalidInputSendsNothing(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := t.Context()
	cases := map[string]func() error{
		"empty url": func() error {
			_, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{})
			return err
		},
		"relative url": func() error {
			_, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: "/events"})
			return err
		},
		"ftp url": func() error {
			_, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: "ftp://example.com/x"})
			return err
		},
		"credentials in url": func() error {
			_, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: "https://user:pw@example.com/x"})
			return err
		},
		"multi-line secret": func() error {
			_, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: "https://example.com/x", Secret: "a\nb"})
			return err
		},
		"update nothing": func() error {
			_, err := c.Webhooks().Update(ctx, 1, dialpad.UpdateWebhookRequest{})
			return err
		},
		"get id 0": func() error {
			_, err := c.Webhooks().Get(ctx, 0)
			return err
		},
		"delete id -1": func() error { return c.Webhooks().Delete(ctx, -1) },
		"subscription without endpoint": func() error {
			_, err := c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{CallStates: []string{"hangup"}})
			return err
		},
		"subscription without states": func() error {
			_, err := c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{EndpointID: 1})
			return err
		},
		"unknown state": func() error {
			_, err := c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{EndpointID: 1, CallStates: []string{"hung_up"}})
			return err
		},
		"target id without type": func() error {
			_, err := c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{EndpointID: 1, CallStates: []string{"all"}, TargetID: 5})
			return err
		},
		"unknown target type": func() error {
			_, err := c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{EndpointID: 1, CallStates: []string{"all"},
				TargetID: 5, TargetType: "team"})
			return err
		},
		"update empty states": func() error {
			_, err := c.CallSubscriptions().Update(ctx, 1, dialpad.UpdateCallSubscriptionRequest{CallStates: []string{}})
			return err
		},
		"update nothing subscription": func() error {
			_, err := c.CallSubscriptions().Update(ctx, 1, dialpad.UpdateCallSubscriptionRequest{})
			return err
		},
		"list target type without id": func() error {
			for _, err := range c.CallSubscriptions().List(ctx, &dialpad.ListCallSubscriptionsOptions{TargetType: "user"}) {
				return err
			}
			return nil
		},
	}
	for name, fn := range cases {
		err := fn()
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, name)
		var te *telephony.Error
		assert.ErrorAs(t, err, &te, name)
		if name == "credentials in url" {
			assert.NotContains(t, err.Error(), "pw", "the URL's password must not reach the error")
		}
	}
	assert.Zero(t, srv.Count("", "/api/v2/webhooks"), "nothing sent")
	assert.Zero(t, srv.Count("", "/api/v2/subscriptions"), "nothing sent")
}

// group_calls_only and a deleted webhook are honoured by the simulator's
// deliveries.
func TestCallSubscriptionGroupCallsOnlyAndDeletedWebhook(t *testing.T) {
	c, srv := newTestClient(t)
	ctx := t.Context()
	agent := srv.SeedUsers(1)[0]
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer hs.Close()

	wh, err := c.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: hs.URL})
	require.NoError(t, err)
	_, err = c.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{
		EndpointID: wh.ID, CallStates: []string{dialpad.CallStateAll}, GroupCallsOnly: true,
	})
	require.NoError(t, err)

	direct, err := c.Calls.Initiate(ctx, dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: agent.ID})
	require.NoError(t, err)
	group, err := c.Calls.Initiate(ctx, dialpad.InitiateCallRequest{PhoneNumber: "+14155550101", UserID: agent.ID,
		GroupID: 77, GroupType: "callcenter"})
	require.NoError(t, err)
	srv.FlushEvents()
	ds := srv.Deliveries()
	require.Len(t, ds, 1, "only the group call")
	assert.Equal(t, group.CallID, ds[0].CallID)
	assert.False(t, ds[0].Signed, "a webhook without a secret gets plain JSON")

	require.NoError(t, c.Webhooks().Delete(ctx, wh.ID))
	require.NoError(t, srv.SetCallState(group.CallID, "hangup"))
	require.NoError(t, srv.SetCallState(direct.CallID, "hangup"))
	srv.FlushEvents()
	assert.Len(t, srv.Deliveries(), 1, "a deleted webhook receives nothing")
}
