package justcall_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// signedDelivery builds a v2.1 delivery as JustCall signs it.
func signedDelivery(t *testing.T, secret, hookURL, eventType string, data any) ([]byte, http.Header) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"request_id": "req-1", "webhook_url": hookURL, "type": eventType, "data": data})
	require.NoError(t, err)
	ts := time.Now().UTC().Format(justcall.TimestampLayout)
	h := http.Header{}
	h.Set(justcall.HeaderSignature, justcall.Signature(secret, hookURL, eventType, ts))
	h.Set(justcall.HeaderRequestTimestamp, ts)
	return body, h
}

// ParseWebhook accepts a genuine delivery and refuses a forged one.
func TestParseWebhook(t *testing.T) {
	const hookURL = "https://hooks.example.com/jc"
	body, header := signedDelivery(t, justcalltest.APISecret, hookURL, "call.completed",
		map[string]any{"id": 123, "contact_number": "14155559876", "call_info": map[string]any{"direction": "Incoming"}})
	ev, we, err := justcall.ParseWebhook(body, header, justcalltest.APISecret)
	require.NoError(t, err)
	assert.Equal(t, "123", ev.CallID)
	assert.Equal(t, "call.completed", ev.Type)
	assert.Equal(t, "+14155559876", ev.From)
	assert.Equal(t, "req-1", ev.DeliveryID)
	assert.JSONEq(t, string(body), string(ev.Raw))
	assert.Equal(t, hookURL, we.WebhookURL)

	_, _, err = justcall.ParseWebhook(body, header, "another-secret")
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "another secret")
	forged, _ := signedDelivery(t, justcalltest.APISecret, hookURL, "call.missed", map[string]any{"id": 123})
	_, _, err = justcall.ParseWebhook(forged, header, justcalltest.APISecret)
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "a type the signature does not cover")
	_, _, err = justcall.ParseWebhook(body, http.Header{}, justcalltest.APISecret)
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "no signature")

	sms, smsHeader := signedDelivery(t, justcalltest.APISecret, hookURL, "sms.received", map[string]any{"id": 9})
	ev, we, err = justcall.ParseWebhook(sms, smsHeader, justcalltest.APISecret)
	require.NoError(t, err, "an SMS event")
	assert.Empty(t, ev.CallID)
	assert.Equal(t, "sms.received", we.Type)
	noID, noIDHeader := signedDelivery(t, justcalltest.APISecret, hookURL, "call.completed", map[string]any{"x": 1})
	_, _, err = justcall.ParseWebhook(noID, noIDHeader, justcalltest.APISecret)
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "a call event without a call id")
}

// ParseCallback accepts a callback with its token and refuses one without.
func TestParseCallback(t *testing.T) {
	const token = "callback-token-0123456789"
	u, err := url.Parse("https://app.example.com/jc/callback?" + justcall.CallbackTokenParam + "=" + token)
	require.NoError(t, err)
	body := []byte(`{"call_id":"c-1","status":"completed","duration":"42"}`)
	header := http.Header{"Content-Type": {"application/json"}}
	ev, cb, err := justcall.ParseCallback(body, header, u, token)
	require.NoError(t, err)
	assert.Equal(t, "c-1", ev.CallID)
	assert.Equal(t, telephony.StatusCompleted, ev.Status)
	assert.Equal(t, 42*time.Second, ev.Duration)
	assert.Equal(t, "completed", cb.Status)
	assert.JSONEq(t, string(body), string(ev.Raw))

	form := []byte("call_id=c-2&status=busy")
	ev, _, err = justcall.ParseCallback(form, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, u, token)
	require.NoError(t, err, "a form")
	assert.Equal(t, telephony.StatusBusy, ev.Status)

	bare, err := url.Parse("https://app.example.com/jc/callback")
	require.NoError(t, err)
	_, _, err = justcall.ParseCallback(body, header, bare, token)
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "no token")
	_, _, err = justcall.ParseCallback(body, header, u, "another-token-0123456789")
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "another token")
	_, _, err = justcall.ParseCallback([]byte(`{"call_id":"c-1","status":"exploded"}`), header, u, token)
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "an unknown status")
}

// Sync mode: the callback is answered after the EventFunc; a failure is
// answered 500 and the redelivery is processed.
func TestCallbackSync(t *testing.T) {
	const token = "callback-token-0123456789"
	var calls, done atomic.Int64
	h, err := justcall.NewCallbackHandler(func(context.Context, telephony.CallEvent) error {
		if calls.Add(1) == 1 {
			return errors.New("database unavailable")
		}
		done.Add(1)
		return nil
	}, justcall.CallbackOptions{Secret: token, Sync: true})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	send := func() int {
		resp, err := http.Post(srv.URL+"?"+justcall.CallbackTokenParam+"="+token, "application/json",
			strings.NewReader(`{"call_id":"c-1","status":"completed"}`))
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	first, second, third := send(), send(), send()
	require.NoError(t, h.Close(t.Context()))
	s := h.Stats()
	t.Logf("callback sync: %d, redelivery %d, again %d; processed=%d stats=%+v", first, second, third, done.Load(), s)
	assert.Equal(t, http.StatusInternalServerError, first)
	assert.Equal(t, http.StatusOK, second)
	assert.Equal(t, http.StatusOK, third)
	assert.Equal(t, int64(1), done.Load())
	assert.Equal(t, int64(1), s.Duplicates, "stats %+v", s)
	assert.Equal(t, int64(1), s.Failed, "stats %+v", s)
}
