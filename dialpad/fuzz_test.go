package dialpad

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// rtFuzzSeeds are routing request bodies from the seed document (ids as
// strings and numbers), a signed one, and hostile shapes.
func rtFuzzSeeds(f *testing.F) {
	key := []byte(rtTestSecret)
	for _, s := range []string{
		`{"date_started": 1712345678901, "call_id": 6000000000000001, "external_number": "+14155550100", "internal_number": "+14155550199", "contact_id": 5551234, "contact_type": "local"}`,
		`{"date_started": "1712345678901", "call_id": "123456", "external_number": "+14155550100", "internal_number": "+14155550199", "contact_id": "223456", "contact_type": "shared"}`,
		`{"call_id": -1}`, `{"call_id": 1e3}`, `{"call_id": "9223372036854775808"}`, `[]`, `null`, ``, `{`,
		"..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.",
		rtSign(f, jwt.SigningMethodHS256, key, rtRoutingClaims(1)),
		rtSign(f, jwt.SigningMethodHS256, key, jwt.MapClaims{"call_id": "77", "exp": 1}),
		rtSign(f, jwt.SigningMethodHS384, key, rtRoutingClaims(1)),
		rtSign(f, jwt.SigningMethodHS256, key, jwt.MapClaims{"call_id": 1, "exp": "soon"}),
		rtSign(f, jwt.SigningMethodHS256, key, jwt.MapClaims{"call_id": 1, "date_started": 1712345678901.5, "contact_id": map[string]any{"id": 1}}),
		`{"call_id": 1, "date_started": "1.7e12"}`, `{"call_id": 1, "date_started": 1e300}`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzRoutingRequest fuzzes the routing request decoder in both modes: it
// never panics, answers only 0, 200 (the fallback), 400 or 401, accepts in JWT mode only what
// verifies, never answers 401 in unsigned mode, and every accepted request
// has a positive call id.
func FuzzRoutingRequest(f *testing.F) {
	rtFuzzSeeds(f)
	v, err := rtNewVerifier(rtTestSecret, MinSecretLength)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ver := range []*rtVerifier{v, nil} {
			call, status, err := rtDecodeRequest(ver, body)
			switch status {
			case 0:
				require.NoError(t, err, "status 0 with an error")
				id, perr := strconv.ParseInt(call.CallID, 10, 64)
				require.NoError(t, perr, "accepted call %+v", call)
				require.Positive(t, id, "accepted call %+v", call)
				require.Equal(t, "dialpad", call.Provider, "accepted call %+v", call)
				if ver != nil {
					_, verr := ver.verify(body)
					require.NoError(t, verr, "accepted a body that does not verify")
				}
			case http.StatusOK: // verified, call id read, other claims not: the fallback
				require.NotNil(t, ver, "200 in unsigned mode: %v", err)
				require.Error(t, err, "200 without an error")
				_, verr := ver.verify(body)
				require.NoError(t, verr, "200 for a body that does not verify")
				id, perr := strconv.ParseInt(call.CallID, 10, 64)
				require.NoError(t, perr, "200 without a call id: %+v", call)
				require.Positive(t, id, "200 without a call id: %+v", call)
			case http.StatusUnauthorized:
				require.NotNil(t, ver, "401 in unsigned mode")
			case http.StatusBadRequest:
			default:
				require.Failf(t, "unexpected status", "status %d (want 0, 200, 400 or 401): %v", status, err)
			}
			if status != 0 {
				require.Error(t, err, "status %d without an error", status)
			}
			if err != nil {
				require.NotContains(t, err.Error(), rtTestSecret, "error quotes the secret")
			}
		}
	})
}

// FuzzWebhookEvent fuzzes the call-event decoder the same way; an accepted
// event always has a call id, a state and a dedupe key.
func FuzzWebhookEvent(f *testing.F) {
	key := []byte(rtTestSecret)
	for _, s := range []string{
		`{"call_id": 1, "state": "hangup", "direction": "inbound", "event_timestamp": 1712345740000, "duration": 60000.5, "target": {"id": 5, "type": "user"}}`,
		`{"call_id": "2", "state": "connected", "duration": "12", "target": null}`,
		`{"call_id": 3, "state": "", "duration": true}`, `{"call_id": 4, "state": "ringing", "duration": 1e300}`,
		rtSign(f, jwt.SigningMethodHS256, key, whEventClaims(5, "missed", 1712345740000)),
	} {
		f.Add([]byte(s))
	}
	v, err := rtNewVerifier(rtTestSecret, 1)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ver := range []*rtVerifier{v, nil} {
			ev, key, status, err := whDecode(ver, body)
			require.Contains(t, []int{0, http.StatusBadRequest, http.StatusUnauthorized}, status, "status %d err %v", status, err)
			require.Equal(t, status == 0, err == nil, "status %d err %v: an error if and only if the status is not 0", status, err)
			if status == http.StatusUnauthorized {
				require.NotNil(t, ver, "401 in unsigned mode")
			}
			if status == 0 {
				require.NotEmpty(t, ev.CallID, "accepted event %+v key %q", ev, key)
				require.NotEmpty(t, ev.Type, "accepted event %+v key %q", ev, key)
				require.NotEmpty(t, key, "accepted event %+v key %q", ev, key)
				require.GreaterOrEqual(t, ev.Duration, time.Duration(0), "accepted event %+v key %q", ev, key)
			}
		}
	})
}
