// Package webhook is the shared plumbing of the inbound handlers: bounded
// body reads, constant-time secret comparison, the events inbox
// (deduplication on the state store, the durable log or a bounded
// asynchronous work queue) and bounded calls of user functions.
package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Body size limits: far above any genuine delivery, far below what would
// hurt a server.
const (
	MaxRoutingBody = 64 << 10  // a Dialpad routing request
	MaxEventBody   = 256 << 10 // an event webhook
)

// DefaultDedupeTTL is how long a delivery key is remembered: longer than any
// provider's documented redelivery window.
const DefaultDedupeTTL = 24 * time.Hour

// ErrTooLarge reports a body over the limit; handlers answer 413.
var ErrTooLarge = errors.New("request body too large")

// ReadBody reads r's body up to limit bytes. A larger body returns
// ErrTooLarge and the server is told to close the connection.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, ErrTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, ErrTooLarge
	}
	return body, err
}

// EqualSecret compares two secrets in constant time, whatever their lengths
// (both are hashed first, so the length does not leak either).
func EqualSecret(got, want string) bool {
	a := sha256.Sum256([]byte(got))
	b := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && want != ""
}

// Error writes a small JSON error answer.
func Error(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"error":`+quote(msg)+`}`)
}

func quote(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

// ValidateURL checks a URL a provider is asked to send events to: an
// absolute http or https URL with a host and no user information
// (credentials in a URL end up in logs). field names it in the error and
// hint says how deliveries are authenticated instead. The URL itself is
// never echoed, in case it holds a secret.
func ValidateURL(field, raw, hint string) error {
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("%s is required: the URL events are sent to", field)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s is not a valid URL", field)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s must be an absolute http or https URL", field)
	}
	if u.User != nil {
		return fmt.Errorf("%s must not contain credentials; %s", field, hint)
	}
	return nil
}
