package dialpad

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtLeeway is the clock skew tolerated on exp, nbf and iat: enough for
// servers whose clocks drift, too little to matter for a replay.
const jwtLeeway = 5 * time.Second

// Decoding failures, kept apart so that a handler can answer 401 for a body
// that is not a JWT verified with the secret and 400 for one that verified
// but cannot be used.
var (
	errRtNotJWT    = errors.New("body is not a compact JWT")
	errRtForged    = errors.New("JWT verification failed")
	errRtMalformed = errors.New("malformed payload")
)

// rtVerifier checks the HS256 JWTs Dialpad sends to a routing URL and to a
// webhook when a secret is configured, and returns their claims as raw
// JSON.
//
// The algorithm is pinned to HS256 (WithValidMethods, checked before the key
// is looked up, and the key function also asserts an HMAC method), so
// neither "none", another HMAC strength nor an asymmetric algorithm is
// accepted. Dialpad documents no exp, nbf or iat claim in these tokens
// (its routing and webhook documentation shows none), so they are validated when present — with 5 s of
// leeway, and iat must not lie in the future — but not required: requiring
// them would reject every genuine request if Dialpad does not send them.
// The consequence is that a captured token can be replayed; the webhook
// handler deduplicates events, and a replayed routing request only asks
// where a call should go.
type rtVerifier struct {
	key    []byte
	keyAny any // key as the key function returns it, converted once
	parser *jwt.Parser
}

// rtNewVerifier returns a verifier for secret, which must be at least
// minLen bytes long (0: any non-empty secret).
func rtNewVerifier(secret string, minLen int) (*rtVerifier, error) {
	if secret == "" {
		return nil, errors.New("secret is empty")
	}
	if len([]rune(secret)) < minLen {
		// The length is safe to report; the secret itself never is.
		return nil, fmt.Errorf("secret has %d characters, at least %d are required", len(secret), minLen)
	}
	key := []byte(secret)
	return &rtVerifier{
		key: key, keyAny: key,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithLeeway(jwtLeeway),
			jwt.WithIssuedAt(),
		),
	}, nil
}

// rtClaims keeps the verified payload as the exact JSON that was signed, so
// that the handlers decode it with their own types (ids as numbers or
// strings), while the embedded RegisteredClaims lets the parser validate
// exp, nbf and iat.
type rtClaims struct {
	jwt.RegisteredClaims
	payload []byte
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *rtClaims) UnmarshalJSON(b []byte) error {
	c.payload = append([]byte(nil), b...)
	return json.Unmarshal(b, &c.RegisteredClaims)
}

// verify checks token and returns its payload. The error wraps errRtNotJWT
// when the input does not even look like a compact JWT, errRtForged
// otherwise.
func (v *rtVerifier) verify(token []byte) ([]byte, error) {
	var claims rtClaims
	if err := v.verifyInto(token, &claims); err != nil {
		return nil, err
	}
	return claims.payload, nil
}

// verifyInto checks token and decodes its claims into claims, in one pass
// over the payload. The error wraps errRtNotJWT when the input does not even
// look like a compact JWT, errRtForged otherwise (with jwt.ErrTokenMalformed
// when the claims did not decode into claims).
func (v *rtVerifier) verifyInto(token []byte, claims jwt.Claims) error {
	token = bytes.TrimSpace(token)
	if !rtLooksLikeJWT(token) {
		return errRtNotJWT
	}
	if _, err := v.parser.ParseWithClaims(string(token), claims, v.keyFunc); err != nil {
		// jwt's messages name the failed check ("signature is invalid",
		// "signing method HS384 is invalid", "token has expired") and never
		// the key.
		return fmt.Errorf("%w: %w", errRtForged, err)
	}
	return nil
}

func (v *rtVerifier) keyFunc(t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
		return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
	}
	return v.keyAny, nil
}

// rtLooksLikeJWT reports whether b has the shape of a compact JWS: three
// non-empty-header base64url segments separated by exactly two dots. It is
// a cheap test run before the parser, and what tells a JWT from a JSON body.
func rtLooksLikeJWT(b []byte) bool {
	dots := 0
	for i, c := range b {
		switch {
		case c == '.':
			dots++
			if dots > 2 || i == 0 {
				return false
			}
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '=':
		default:
			return false
		}
	}
	return dots == 2
}

// rtPayload turns a request body into the JSON payload to decode: with a
// verifier the body must be a valid JWT; without one (unsigned mode) it must
// be a JSON object.
func rtPayload(v *rtVerifier, body []byte) ([]byte, error) {
	if v != nil {
		return v.verify(body)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: want a JSON object", errRtMalformed)
	}
	return trimmed, nil
}
