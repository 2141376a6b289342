package telephony

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Every *Error matches exactly one of them with errors.Is.
var (
	// ErrInvalidRequest: the request was rejected as malformed (400, 422), or
	// was refused before sending because an argument is invalid.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrUnauthorized: the credentials were refused (401, 403).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: the resource does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrRateLimited: the provider's rate limit (429, or a client-side limit)
	// still applied after the allowed waits; Error.RetryAfter says how long.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnsupported: the provider cannot do this.
	ErrUnsupported = errors.New("unsupported by provider")
	// ErrOutcomeUnknown: a request that can ring a phone or move a call was
	// sent, and no answer says whether the provider acted on it. It was not
	// sent again; check the provider's call log before retrying.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrInvalidSignature: an inbound request failed verification.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrUnavailable: the provider could not be reached or kept failing
	// (connection errors, 5xx) after the allowed retries.
	ErrUnavailable = errors.New("provider unavailable")
	// ErrBadResponse: the provider answered with something that cannot be
	// decoded (malformed JSON, an unexpected status).
	ErrBadResponse = errors.New("unexpected response from provider")
	// ErrConflict: the provider reported a conflict (409).
	ErrConflict = errors.New("conflict")
)

// Error is the error type of every provider operation.
type Error struct {
	// Kind is the sentinel this error matches (ErrNotFound, ...).
	Kind error
	// Provider is "justcall", "dialpad" or "aircall".
	Provider string
	// Op names the operation: the method and route template, such as
	// "POST /v2/calls/make". It never holds credentials or a query string.
	Op string
	// StatusCode is the final HTTP status, 0 when no response arrived.
	StatusCode int
	// Message is the provider's own error message, or ours when the request
	// was refused before sending.
	Message string
	// RequestID is the provider's request id, when it sent one.
	RequestID string
	// RetryAfter is how long the provider (or the client-side limiter) asked
	// the caller to wait.
	RetryAfter time.Duration
	// Attempts is how many requests went out for this operation.
	Attempts int
	// Body is at most 512 bytes of the provider's error body.
	Body []byte
	// Err is the underlying cause, if any (a transport error, or a context
	// error that also matches with errors.Is).
	Err error
}

// Error describes what failed and, where it can, what to do.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("error")
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil && (e.Message == "" || !strings.Contains(e.Message, e.Err.Error())) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	var extra []string
	if e.RetryAfter > 0 {
		extra = append(extra, "retry after "+e.RetryAfter.Round(time.Millisecond).String())
	}
	if e.RequestID != "" {
		extra = append(extra, "request id "+e.RequestID)
	}
	if e.Attempts > 0 {
		s := strconv.Itoa(e.Attempts) + " attempt"
		if e.Attempts != 1 {
			s += "s"
		}
		extra = append(extra, s)
	}
	if len(extra) > 0 {
		b.WriteString(" [")
		b.WriteString(strings.Join(extra, ", "))
		b.WriteString("]")
	}
	return b.String()
}

// Unwrap returns the sentinel and the cause, so errors.Is matches both.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// KindForStatus maps an HTTP status to the sentinel an *Error carries.
func KindForStatus(status int) error {
	switch {
	case status == 400 || status == 422 || status == 413:
		return ErrInvalidRequest
	case status == 401 || status == 403:
		return ErrUnauthorized
	case status == 404 || status == 410:
		return ErrNotFound
	case status == 409:
		return ErrConflict
	case status == 429:
		return ErrRateLimited
	case status >= 500:
		return ErrUnavailable
	}
	return ErrBadResponse
}

// invalid builds the error returned when a request is refused before sending.
func invalid(provider, op, format string, args ...any) error {
	return &Error{Kind: ErrInvalidRequest, Provider: provider, Op: op, Message: fmt.Sprintf(format, args...)}
}

// InvalidArgument returns an *Error matching ErrInvalidRequest for a request
// refused before anything was sent. Provider packages use it so that argument
// errors look the same everywhere.
func InvalidArgument(provider, op, format string, args ...any) error {
	return invalid(provider, op, format, args...)
}

// Unsupported returns an *Error matching ErrUnsupported.
func Unsupported(provider, op string) error {
	return &Error{Kind: ErrUnsupported, Provider: provider, Op: op,
		Message: provider + " has no API for this operation"}
}
