package dialpad

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/telephony"
)

// rtRequest is the routing request's JSON: the JWT's claims, or the body of
// an unsigned request. Ids arrive as numbers or numeric strings.
type rtRequest struct {
	DateStarted    rtMillis     `json:"date_started"`
	CallID         jsonx.Int64  `json:"call_id"`
	ExternalNumber jsonx.String `json:"external_number"`
	InternalNumber jsonx.String `json:"internal_number"`
	ContactID      jsonx.String `json:"contact_id"`
	ContactType    jsonx.String `json:"contact_type"`
}

// rtMillis is a time in Unix milliseconds, read leniently: a JSON integer,
// a float (truncated), a numeric string of either, null or "" (zero).
type rtMillis int64

// UnmarshalJSON implements json.Unmarshaler.
func (m *rtMillis) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if v, ok := rtDigits(b); ok { // the usual form, read without allocating
		*m = rtMillis(v)
		return nil
	}
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	if s == "" || s == "null" {
		*m = 0
		return nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*m = rtMillis(v)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	// float64(math.MaxInt64) is 2^63: the bound excludes it.
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return fmt.Errorf("date %.30q is not a number of milliseconds", s)
	}
	*m = rtMillis(f)
	return nil
}

// rtDigits reads a non-negative decimal integer of at most 18 digits.
func rtDigits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// rtDecodeRequest verifies and decodes a routing request body. It returns
// 401 when the body is not a JWT verified with the secret, 400 when it
// cannot be decoded, and 0 on success. A verified JWT whose call_id reads
// but whose other claims do not returns 200, an error and a call holding
// only its id: the caller answers it with the fallback.
func rtDecodeRequest(v *rtVerifier, body []byte) (telephony.InboundCall, int, error) {
	if v != nil {
		// The common case in one pass: verify the token and decode its
		// claims (the routing fields and exp/nbf/iat) together.
		var plain rtPlainRequest
		err := v.verifyInto(body, &plain)
		if err == nil {
			req := plain.request()
			return req.call()
		}
		if errors.Is(err, jwt.ErrTokenMalformed) {
			// Ids as strings, a date as a float...: the lenient types.
			var claims rtSignedRequest
			if err = v.verifyInto(body, &claims); err == nil {
				return claims.rtRequest.call()
			}
		}
		if !errors.Is(err, jwt.ErrTokenMalformed) {
			return telephony.InboundCall{}, http.StatusUnauthorized, err
		}
		// The claims did not decode (or the token is malformed): the
		// two-step path below tells a forged token from a verified one
		// whose call_id is readable.
	}
	payload, err := rtPayload(v, body)
	if err != nil {
		if v != nil {
			return telephony.InboundCall{}, http.StatusUnauthorized, err
		}
		return telephony.InboundCall{}, http.StatusBadRequest, err
	}
	var req rtRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		err = fmt.Errorf("%w: %w", errRtMalformed, err)
		var id struct {
			CallID jsonx.Int64 `json:"call_id"`
		}
		if v != nil && json.Unmarshal(payload, &id) == nil && id.CallID > 0 {
			return telephony.InboundCall{Provider: telephony.ProviderDialpad, CallID: strconv.FormatInt(int64(id.CallID), 10)},
				http.StatusOK, err
		}
		return telephony.InboundCall{}, http.StatusBadRequest, err
	}
	return req.call()
}

// rtSignedRequest are a signed routing request's claims decoded in one pass:
// the routing fields, and the registered claims the parser validates.
type rtSignedRequest struct {
	rtRequest
	jwt.RegisteredClaims
}

// rtPlainRequest is the form Dialpad sends — numbers as numbers — with the
// registered claims the parser validates, decoded with plain Go types (no
// custom decoder per field). A token whose claims do not fit it is decoded
// again as an rtSignedRequest, whose types are lenient.
type rtPlainRequest struct {
	jwt.RegisteredClaims
	DateStarted    int64  `json:"date_started"`
	CallID         int64  `json:"call_id"`
	ExternalNumber string `json:"external_number"`
	InternalNumber string `json:"internal_number"`
	ContactID      string `json:"contact_id"`
	ContactType    string `json:"contact_type"`
}

func (p *rtPlainRequest) request() rtRequest {
	return rtRequest{DateStarted: rtMillis(p.DateStarted), CallID: jsonx.Int64(p.CallID),
		ExternalNumber: jsonx.String(p.ExternalNumber), InternalNumber: jsonx.String(p.InternalNumber),
		ContactID: jsonx.String(p.ContactID), ContactType: jsonx.String(p.ContactType)}
}

// call turns a decoded routing request into the portable call; it answers
// 400 without a call_id.
func (req *rtRequest) call() (telephony.InboundCall, int, error) {
	if req.CallID <= 0 {
		return telephony.InboundCall{}, http.StatusBadRequest, fmt.Errorf("%w: no call_id", errRtMalformed)
	}
	call := telephony.InboundCall{
		Provider:    telephony.ProviderDialpad,
		CallID:      strconv.FormatInt(int64(req.CallID), 10),
		From:        telephony.NormalizeNumber(string(req.ExternalNumber)),
		To:          telephony.NormalizeNumber(string(req.InternalNumber)),
		ContactID:   string(req.ContactID),
		ContactType: string(req.ContactType),
	}
	if req.DateStarted > 0 {
		call.StartedAt = time.UnixMilli(int64(req.DateStarted)).UTC()
	}
	return call, 0, nil
}
