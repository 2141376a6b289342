package dialpad

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/telephony"
)

// Sync mode answers after the EventFunc: 500 when it failed, with the
// delivery forgotten, so that Dialpad's redelivery (about 2, 4 and 8 s
// later) is processed.
func TestWebhookSyncRedeliveryIsProcessed(t *testing.T) {
	var calls, done atomic.Int64
	h := whNew(t, rtTestSecret, func(_ context.Context, ev telephony.CallEvent) error {
		if calls.Add(1) == 1 {
			return errors.New("database unavailable")
		}
		done.Add(1)
		return nil
	}, WebhookOptions{Sync: true})
	srv := rtServe(t, h)
	body := whSigned(t, whEventClaims(42, "hangup", 1712345740001))
	first, _ := rtPost(t, srv.Client(), srv.URL, "application/jwt", body)
	again, _ := rtPost(t, srv.Client(), srv.URL, "application/jwt", whSigned(t, whEventClaims(42, "hangup", 1712345740001)))
	dup, ack := rtPost(t, srv.Client(), srv.URL, "application/jwt", body)
	s := h.Stats()
	t.Logf("sync: failed delivery=%d, redelivery=%d, duplicate=%d %s; EventFunc calls=%d stats=%+v", first, again, dup, ack, calls.Load(), s)
	assert.Equal(t, http.StatusInternalServerError, first, "a failed EventFunc")
	assert.Equal(t, http.StatusOK, again, "the redelivery")
	assert.Equal(t, http.StatusOK, dup, "a duplicate")
	assert.JSONEq(t, `{"status":"duplicate"}`, ack)
	assert.Equal(t, int64(2), calls.Load(), "EventFunc calls")
	assert.Equal(t, int64(1), done.Load(), "events processed")
	assert.Equal(t, int64(1), s.Failed, "stats %+v", s)
	assert.Equal(t, int64(1), s.Delivered, "stats %+v", s)
	assert.Equal(t, int64(1), s.Duplicates, "stats %+v", s)
}

// ParseWebhook accepts a genuine delivery and refuses a forged one.
func TestParseWebhook(t *testing.T) {
	body := whSigned(t, whEventClaims(42, "hangup", 1712345740001))
	ev, e, err := ParseWebhook(body, rtTestSecret)
	require.NoError(t, err)
	assert.Equal(t, "42", ev.CallID)
	assert.Equal(t, "hangup", ev.Type)
	assert.Equal(t, telephony.StatusCompleted, ev.Status)
	assert.NotEmpty(t, ev.Raw)
	assert.NotEmpty(t, ev.DeliveryID)
	assert.Equal(t, int64(42), int64(e.CallID))

	for name, forged := range map[string][]byte{
		"another secret": []byte(rtSign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789-abcdefghijkl"), whEventClaims(42, "hangup", 1))),
		"HS512":          []byte(rtSign(t, jwt.SigningMethodHS512, []byte(rtTestSecret), whEventClaims(42, "hangup", 1))),
		"plain JSON":     []byte(`{"call_id":42,"state":"hangup"}`),
		"tampered":       append(append([]byte(nil), body[:len(body)-2]...), 'x', 'y'),
	} {
		_, _, err := ParseWebhook(forged, rtTestSecret)
		assert.ErrorIs(t, err, telephony.ErrInvalidSignature, name)
	}
	_, _, err = ParseWebhook(whSigned(t, jwt.MapClaims{"call_id": 42}), rtTestSecret)
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "no state")
	_, _, err = ParseWebhook(body, "")
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "no secret")
}

// ParseRoutingRequest accepts a genuine routing request and refuses a
// forged one.
func TestParseRoutingRequest(t *testing.T) {
	call, req, err := ParseRoutingRequest(rtSigned(t, 77), rtTestSecret)
	require.NoError(t, err)
	assert.Equal(t, "77", call.CallID)
	assert.Equal(t, int64(77), req.CallID)
	assert.Equal(t, telephony.ProviderDialpad, call.Provider)
	assert.NotEmpty(t, call.From)
	assert.Equal(t, call.StartedAt, req.DateStarted)

	_, _, err = ParseRoutingRequest([]byte(rtSign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789-abcdefghijkl"), rtRoutingClaims(77))), rtTestSecret)
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "another secret")
	_, _, err = ParseRoutingRequest([]byte(`{"call_id":77}`), rtTestSecret)
	assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "unsigned")
	_, _, err = ParseRoutingRequest([]byte(rtSign(t, jwt.SigningMethodHS256, []byte(rtTestSecret), jwt.MapClaims{"x": 1})), rtTestSecret)
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "no call_id")
	_, _, err = ParseRoutingRequest(rtSigned(t, 77), "short")
	assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "short secret")
}
