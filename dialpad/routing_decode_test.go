package dialpad

import (
	"net/http"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const decodeTestSecret = "decode-test-secret-0123456789-abcdefghij"

func decodeTestToken(t testing.TB, claims jwt.MapClaims) []byte {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(decodeTestSecret))
	require.NoError(t, err)
	return []byte(s)
}

// A signed routing request is verified and decoded in one pass over its
// payload; lenient forms (ids as strings, a float date) still decode, and a
// verified token whose date cannot be read still yields its call id.
func TestRoutingDecodeForms(t *testing.T) {
	v, err := rtNewVerifier(decodeTestSecret, MinSecretLength)
	require.NoError(t, err)
	cases := []struct {
		name   string
		claims jwt.MapClaims
		status int
		callID string
	}{
		{"plain", jwt.MapClaims{"call_id": 1001, "date_started": 1712345678901, "external_number": "+14155550100", "contact_type": "local"}, 0, "1001"},
		{"string ids", jwt.MapClaims{"call_id": "1002", "date_started": "1712345678901", "contact_id": 5551234}, 0, "1002"},
		{"float date", jwt.MapClaims{"call_id": 1003, "date_started": 1712345678901.5}, 0, "1003"},
		{"unreadable date", jwt.MapClaims{"call_id": 1004, "date_started": map[string]any{"x": 1}}, http.StatusOK, "1004"},
		{"no call id", jwt.MapClaims{"date_started": 1712345678901}, http.StatusBadRequest, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			call, status, err := rtDecodeRequest(v, decodeTestToken(t, tc.claims))
			assert.Equal(t, tc.status, status, "status (err %v)", err)
			assert.Equal(t, tc.callID, call.CallID)
		})
	}
	good := decodeTestToken(t, cases[0].claims)
	call, _, err := rtDecodeRequest(v, good)
	require.NoError(t, err)
	assert.Equal(t, "+14155550100", call.From)
	assert.Equal(t, int64(1712345678901), call.StartedAt.UnixMilli())

	forged := append([]byte(nil), good...)
	forged[len(forged)-2] ^= 1
	_, status, err := rtDecodeRequest(v, forged)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.ErrorIs(t, err, errRtForged)
}

// The payload of a verified routing token is decoded once: the whole
// verify-and-decode step allocates no more than golang-jwt's own
// ParseWithClaims into a plain struct, plus a few. (Before, the payload was
// copied and decoded twice.)
func TestRoutingDecodeOnce(t *testing.T) {
	v, err := rtNewVerifier(decodeTestSecret, MinSecretLength)
	require.NoError(t, err)
	token := decodeTestToken(t, jwt.MapClaims{"call_id": 1001, "date_started": 1712345678901,
		"external_number": "+14155550100", "internal_number": "+14155550199", "contact_id": "5551234", "contact_type": "local"})
	ours := testing.AllocsPerRun(200, func() {
		if _, status, err := rtDecodeRequest(v, token); err != nil || status != 0 {
			t.Fatal(status, err)
		}
	})
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}))
	key := []byte(decodeTestSecret)
	var plain rtPlainRequest
	bare := testing.AllocsPerRun(200, func() {
		if _, err := parser.ParseWithClaims(string(token), &plain, func(*jwt.Token) (any, error) { return key, nil }); err != nil {
			t.Fatal(err)
		}
	})
	// Decoding also puts From and To in E.164 (telephony.NormalizeNumber):
	// numbers already in E.164 take its allocation-free path, so they add
	// nothing to the budget.
	t.Logf("verify and decode a routing token: %.0f allocations; golang-jwt ParseWithClaims alone: %.0f", ours, bare)
	assert.LessOrEqual(t, ours, bare+3)
}
