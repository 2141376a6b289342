package justcall

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The documented example of developer.justcall.io "Dynamic Webhook
// Signatures" (JavaScript and Python versions agree on it).
const (
	docSecret    = "ea39089c40790e9dc7a080ec95e849b8fa0fa5fb"
	docURL       = "https://webhook.site/3bcea770-370a-4b09-8b66-426f687e08a4"
	docType      = "call.completed"
	docTimestamp = "2024-03-21 17:08:22"
	docSignature = "56761bae5b27a784a3ddd2af828bc5def7176bc0a8650199b04c737bd39bbecf"
	docBody      = `{"request_id":"01HSGZRD0PHRCCHM46JRCRYMC4","webhook_url":"https://webhook.site/3bcea770-370a-4b09-8b66-426f687e08a4","url_id":"65fc65d6d8b63be90aeee515","type":"call.completed","data":{}}`
)

func docHeaders(sig, ts string) http.Header {
	h := http.Header{}
	h.Set(HeaderSignature, sig)
	h.Set(HeaderSignatureVersion, "v1")
	h.Set(HeaderRequestTimestamp, ts)
	return h
}

var docTime = time.Date(2024, 3, 21, 17, 8, 22, 0, time.UTC)

func TestSignatureDocumentedVector(t *testing.T) {
	got := Signature(docSecret, docURL, docType, docTimestamp)
	t.Logf("R18 documented vector: computed %s, match=%v", got, got == docSignature)
	require.Equal(t, docSignature, got, "Signature")
	env, err := verify([]string{docSecret}, docHeaders(docSignature, docTimestamp), []byte(docBody), DefaultTolerance, docTime)
	require.NoError(t, err, "verify rejected the documented delivery")
	assert.Equal(t, "01HSGZRD0PHRCCHM46JRCRYMC4", env.RequestID, "request_id")
}

func TestVerifyWindowAndTampering(t *testing.T) {
	accept := func(body string, h http.Header, now time.Time) error {
		_, err := verify([]string{docSecret}, h, []byte(body), DefaultTolerance, now)
		return err
	}
	good := docHeaders(docSignature, docTimestamp)
	for _, tc := range []struct {
		name   string
		body   string
		h      http.Header
		now    time.Time
		accept bool
	}{
		{"documented", docBody, good, docTime, true},
		{"now +299s", docBody, good, docTime.Add(299 * time.Second), true},
		{"now -299s", docBody, good, docTime.Add(-299 * time.Second), true},
		{"now +301s", docBody, good, docTime.Add(301 * time.Second), false},
		{"now -301s", docBody, good, docTime.Add(-301 * time.Second), false},
		{"changed type", strings.Replace(docBody, "call.completed", "call.missed", 1), good, docTime, false},
		{"changed webhook_url", strings.Replace(docBody, "webhook.site/3bcea770", "webhook.site/3bcea771", 1), good, docTime, false},
		{"changed timestamp header", docBody, docHeaders(docSignature, "2024-03-21 17:08:23"), docTime, false},
		{"wrong secret", docBody, docHeaders(Signature("other", docURL, docType, docTimestamp), docTimestamp), docTime, false},
		{"missing signature", docBody, docHeaders("", docTimestamp), docTime, false},
		{"malformed signature", docBody, docHeaders("zz", docTimestamp), docTime, false},
		{"version v2", docBody, func() http.Header { h := good.Clone(); h.Set(HeaderSignatureVersion, "v2"); return h }(), docTime, false},
		// data is not signed: a change to it passes the signature check.
		{"changed data", strings.Replace(docBody, `"data":{}`, `"data":{"id":666}`, 1), good, docTime, true},
	} {
		err := accept(tc.body, tc.h, tc.now)
		t.Logf("R18 %s: accepted=%v (%v)", tc.name, err == nil, err)
		if tc.accept {
			assert.NoError(t, err, "%s: want it accepted", tc.name)
		} else {
			assert.Error(t, err, "%s: want it refused", tc.name)
		}
	}
}

func TestVerifyRotationAndEncoders(t *testing.T) {
	// Two secrets: a delivery signed with the previous one is accepted.
	_, err := verify([]string{"new-secret", docSecret}, docHeaders(docSignature, docTimestamp), []byte(docBody), DefaultTolerance, docTime)
	assert.NoError(t, err, "previous secret rejected")
	// encodeURIComponent and Python's quote differ on !*'(); both signers
	// are accepted.
	u := "https://example.com/h?a=(1)&b=it's!*"
	require.NotEqual(t, encodeURIComponent(u), pythonQuote(u), "test URL does not tell the encoders apart")
	body := `{"request_id":"r","webhook_url":"` + u + `","type":"call.answered","data":{}}`
	for name, enc := range map[string]string{"js": encodeURIComponent(u), "python": pythonQuote(u)} {
		sig := hexMAC(docSecret, enc, "call.answered", docTimestamp)
		_, err := verify([]string{docSecret}, docHeaders(sig, docTimestamp), []byte(body), DefaultTolerance, docTime)
		assert.NoError(t, err, "%s-encoded signature rejected", name)
	}
	assert.Equal(t, "a%20b%2F%C3%A9~*", encodeURIComponent("a b/é~*"), "encodeURIComponent")
}

func hexMAC(secret, encodedURL, typ, ts string) string {
	return hex.EncodeToString(mac(secret, encodedURL, typ, ts))
}
