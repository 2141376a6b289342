package dialpad

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/telephony"
)

// rtTestSecret is a router secret of the documented minimum length or more.
const rtTestSecret = "s3cr3t-0123456789-abcdefghij-KLMNOPQRST"

// rtRoutingClaims is a routing request as the seed documents it.
func rtRoutingClaims(callID int64) jwt.MapClaims {
	return jwt.MapClaims{
		"date_started":    1712345678901,
		"call_id":         callID,
		"external_number": "+14155550100",
		"internal_number": "+14155550199",
		"contact_id":      "5551234",
		"contact_type":    "local",
	}
}

// rtSign signs claims with method and key, failing the test on error.
func rtSign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err, "signing")
	return s
}

// rtPost sends body to url and returns the status and the answer. It stops
// the test on a transport error, so call it only from the test's goroutine;
// other goroutines use rtTryPost.
func rtPost(t testing.TB, c *http.Client, url, contentType string, body []byte) (int, string) {
	t.Helper()
	status, answer, err := rtTryPost(c, url, contentType, body)
	require.NoError(t, err, "POST")
	return status, answer
}

// rtTryPost sends body to url and returns the status and the answer, or the
// error that kept it from getting one.
func rtTryPost(c *http.Client, url, contentType string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// rtServe starts h on an httptest server closed at the end of the test.
func rtServe(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestJWTTable is reliability.md R15: the §3.2 table through the routing
// handler over HTTP. Only the good token and the documented no-exp token
// reach the RouteFunc.
func TestJWTTable(t *testing.T) {
	var routed atomic.Int64
	h, err := NewRoutingHandler(func(ctx context.Context, c telephony.InboundCall) (telephony.Target, error) {
		routed.Add(1)
		return telephony.UserTarget("42"), nil
	}, RoutingOptions{Secret: rtTestSecret, Fallback: telephony.Target{Type: telephony.TargetOffice, ID: "7"}})
	require.NoError(t, err)
	srv := rtServe(t, h)

	key := []byte(rtTestSecret)
	now := time.Now()
	with := func(extra jwt.MapClaims) jwt.MapClaims {
		c := rtRoutingClaims(1001)
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	good := rtSign(t, jwt.SigningMethodHS256, key, with(jwt.MapClaims{"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix()}))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	parts := strings.Split(good, ".")
	forgedPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"call_id":666,"external_number":"+14155550100"}`))
	noCallID := rtSign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"external_number": "+14155550100"})

	cases := []struct {
		name  string
		body  []byte
		ctype string
		want  int
		kind  string // "good", "no-exp" (accepted by design) or "reject"
	}{
		{"good HS256", []byte(good), "application/jwt", 200, "good"},
		{"no exp, no iat (Dialpad documents none; accepted by design)", []byte(rtSign(t, jwt.SigningMethodHS256, key, rtRoutingClaims(1002))), "application/jwt", 200, "no-exp"},
		{"wrong secret", []byte(rtSign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789-abcdefghij"), rtRoutingClaims(1003))), "application/jwt", 401, "reject"},
		{"HS384 same secret", []byte(rtSign(t, jwt.SigningMethodHS384, key, rtRoutingClaims(1004))), "application/jwt", 401, "reject"},
		{"HS512 same secret", []byte(rtSign(t, jwt.SigningMethodHS512, key, rtRoutingClaims(1005))), "application/jwt", 401, "reject"},
		{"alg none", []byte(rtSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, rtRoutingClaims(1006))), "application/jwt", 401, "reject"},
		{"RS256", []byte(rtSign(t, jwt.SigningMethodRS256, rsaKey, rtRoutingClaims(1007))), "application/jwt", 401, "reject"},
		{"expired 30 s ago (leeway 5 s)", []byte(rtSign(t, jwt.SigningMethodHS256, key, with(jwt.MapClaims{"exp": now.Add(-30 * time.Second).Unix()}))), "application/jwt", 401, "reject"},
		{"iat 60 s in the future", []byte(rtSign(t, jwt.SigningMethodHS256, key, with(jwt.MapClaims{"iat": now.Add(time.Minute).Unix()}))), "application/jwt", 401, "reject"},
		{"nbf 60 s in the future", []byte(rtSign(t, jwt.SigningMethodHS256, key, with(jwt.MapClaims{"nbf": now.Add(time.Minute).Unix()}))), "application/jwt", 401, "reject"},
		{"tampered payload", []byte(parts[0] + "." + forgedPayload + "." + parts[2]), "application/jwt", 401, "reject"},
		{"signature stripped", []byte(parts[0] + "." + parts[1] + "."), "application/jwt", 401, "reject"},
		{"two segments", []byte(parts[0] + "." + parts[1]), "application/jwt", 401, "reject"},
		{"60 KiB of dots", bytes.Repeat([]byte("."), 60<<10), "application/jwt", 401, "reject"},
		{"1 MiB of dots", bytes.Repeat([]byte("."), 1<<20), "application/jwt", 413, "reject"},
		{"empty body", nil, "application/jwt", 401, "reject"},
		{"JSON body with a secret configured (R16)", []byte(`{"call_id":1008,"external_number":"+14155550100"}`), "application/json", 401, "reject"},
		{"signed but no call_id", []byte(noCallID), "application/jwt", 400, "reject"},
	}
	accepted := map[string]int{}
	for _, tc := range cases {
		before := routed.Load()
		status, _ := rtPost(t, srv.Client(), srv.URL, tc.ctype, tc.body)
		reached := routed.Load() - before
		t.Logf("R15 %-62s status=%d routefunc=%d", tc.name, status, reached)
		assert.Equal(t, tc.want, status, "%s: status", tc.name)
		if status == http.StatusOK {
			accepted[tc.kind]++
		}
		want := map[bool]int64{true: 1}[status == http.StatusOK]
		assert.Equal(t, want, reached, "%s: RouteFunc runs", tc.name)
	}
	t.Logf("R15 JWT table: accepted=%d (the good token); no-exp token accepted=%d (by design: Dialpad documents no exp); forged or malformed accepted=%d of %d",
		accepted["good"], accepted["no-exp"], accepted["reject"], len(cases)-2)
	assert.Equal(t, 1, accepted["good"], "accepted %v; want good=1 no-exp=1 reject=0", accepted)
	assert.Equal(t, 1, accepted["no-exp"], "accepted %v; want good=1 no-exp=1 reject=0", accepted)
	assert.Equal(t, 0, accepted["reject"], "accepted %v; want good=1 no-exp=1 reject=0", accepted)
	assert.Equal(t, int64(2), routed.Load(), "RouteFunc runs")
}

// TestJWTDotsFast times the verifier on 1 MiB of dots, the input of
// CVE-2025-30204 (golang-jwt >= v5.2.2 and our shape check both refuse it
// without allocating per dot).
func TestJWTDotsFast(t *testing.T) {
	v, err := rtNewVerifier(rtTestSecret, MinSecretLength)
	require.NoError(t, err)
	dots := bytes.Repeat([]byte("."), 1<<20)
	start := time.Now()
	_, err = v.verify(dots)
	elapsed := time.Since(start)
	require.Error(t, err, "1 MiB of dots verified")
	// The parser alone, without our shape check in front of it.
	start = time.Now()
	_, perr := v.parser.ParseWithClaims(string(dots), &rtClaims{}, v.keyFunc)
	parserElapsed := time.Since(start)
	require.Error(t, perr, "1 MiB of dots parsed")
	t.Logf("R15 1 MiB of dots: rejected in %v (verifier), %v (jwt parser alone)", elapsed, parserElapsed)
	assert.LessOrEqual(t, elapsed, 50*time.Millisecond, "rejecting 1 MiB of dots (verifier)")
	assert.LessOrEqual(t, parserElapsed, 50*time.Millisecond, "rejecting 1 MiB of dots (jwt parser alone)")
}

func TestVerifierSecretLength(t *testing.T) {
	_, err := rtNewVerifier(strings.Repeat("x", MinSecretLength-1), MinSecretLength)
	if assert.Error(t, err, "31-character secret accepted") {
		assert.NotContains(t, err.Error(), strings.Repeat("x", 8), "31-character secret: the error quotes the secret")
	}
	_, err = rtNewVerifier("", 1)
	assert.Error(t, err, "empty secret accepted")
	_, err = rtNewVerifier(strings.Repeat("x", MinSecretLength), MinSecretLength)
	assert.NoError(t, err, "32-character secret")
}

func TestLooksLikeJWT(t *testing.T) {
	for in, want := range map[string]bool{
		"a.b.c": true, "a.b.": true, "aGVs-_.b.c": true,
		"": false, ".b.c": false, "a.b": false, "a.b.c.d": false, `{"a":1}`: false, "a b.c.d": false,
	} {
		assert.Equal(t, want, rtLooksLikeJWT([]byte(in)), "rtLooksLikeJWT(%q)", in)
	}
}
