package telephony

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/telephony/state"
	"golang.org/x/time/rate"
)

// Option configures a provider client. Options are shared by all three
// provider packages; an invalid option makes the provider's New fail.
type Option func(*Settings) error

// Settings is the result of applying Options. Provider packages read it;
// users set it through Options.
type Settings struct {
	// BaseURL replaces the provider's default scheme://host[/prefix].
	BaseURL string
	// HTTPClient carries the requests. It is copied, never modified.
	HTTPClient *http.Client
	// RateLimit and RateBurst replace the provider's documented steady
	// limit for this account when RateLimit is non-zero.
	RateLimit rate.Limit
	RateBurst int
	// MaxRetryWait caps one server-requested wait (Retry-After, reset
	// headers). Zero means 30s.
	MaxRetryWait time.Duration
	// MaxAttempts is how many requests one logical operation may send.
	// Zero means 3.
	MaxAttempts int
	// RetryBaseWait and RetryMaxWait shape the jittered exponential backoff.
	// Zero means 500ms and 20s.
	RetryBaseWait time.Duration
	RetryMaxWait  time.Duration
	// Logger receives debug records of each attempt; nil is silent.
	Logger *slog.Logger
	// UserAgent is sent as User-Agent.
	UserAgent string
	// State is where the client keeps what replicas must share: the
	// account's rate windows and gate, per-endpoint limits. Nil means
	// state.Default() when the client is built.
	State *state.Store
	// Observer is told of every operation and attempt (tracing, metrics);
	// nil costs nothing.
	Observer Observer
}

// Defaults applied by NewSettings.
const (
	DefaultMaxRetryWait  = 30 * time.Second
	DefaultMaxAttempts   = 3
	DefaultRetryBaseWait = 500 * time.Millisecond
	DefaultRetryMaxWait  = 20 * time.Second
	DefaultUserAgent     = "switchboard-go/" + Version
)

// NewSettings applies opts over the defaults. Provider packages call it from
// their New.
func NewSettings(opts ...Option) (Settings, error) {
	s := Settings{
		MaxRetryWait:  DefaultMaxRetryWait,
		MaxAttempts:   DefaultMaxAttempts,
		RetryBaseWait: DefaultRetryBaseWait,
		RetryMaxWait:  DefaultRetryMaxWait,
		UserAgent:     DefaultUserAgent,
	}
	var errs []error
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&s); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, fmt.Errorf("telephony: invalid option: %w", err)
	}
	return s, nil
}

// WithBaseURL points the client at scheme://host[/prefix] instead of the
// provider's API host; request paths keep their version (/v2/..., /api/v2/...,
// /v1/...). Use it for the simulators in justcalltest, dialpadtest and
// aircalltest, or a sandbox. The URL must not carry credentials or a query.
func WithBaseURL(rawURL string) Option {
	return func(s *Settings) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("WithBaseURL: %v", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("WithBaseURL: %q must be an absolute http or https URL", rawURL)
		}
		if u.Host == "" {
			return fmt.Errorf("WithBaseURL: %q has no host", rawURL)
		}
		if u.User != nil {
			return errors.New("WithBaseURL: the URL must not contain credentials; pass them to New, they are sent in a header")
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return errors.New("WithBaseURL: the URL must not have a query or fragment")
		}
		s.BaseURL = strings.TrimRight(u.String(), "/")
		return nil
	}
}

// WithHTTPClient sends requests through c (its Transport and Timeout). The
// client is copied; redirects are never followed with credentials attached.
func WithHTTPClient(c *http.Client) Option {
	return func(s *Settings) error {
		if c == nil {
			return errors.New("WithHTTPClient: nil *http.Client")
		}
		s.HTTPClient = c
		return nil
	}
}

// WithRateLimit replaces the provider's documented steady request rate for
// the account: limit requests per second with the given burst. Use
// rate.Inf to turn client-side limiting off. Every client sharing the
// account (same credentials and base URL) uses the latest setting.
func WithRateLimit(limit rate.Limit, burst int) Option {
	return func(s *Settings) error {
		if limit <= 0 {
			return fmt.Errorf("WithRateLimit: limit %v would block every request; use rate.Inf for no limit", limit)
		}
		if burst < 1 && limit != rate.Inf {
			return fmt.Errorf("WithRateLimit: burst %d must be at least 1", burst)
		}
		s.RateLimit, s.RateBurst = limit, burst
		return nil
	}
}

// WithMaxRetryWait caps one server-requested wait (Retry-After or a rate
// limit reset). A longer request fails at once with ErrRateLimited.
func WithMaxRetryWait(d time.Duration) Option {
	return func(s *Settings) error {
		if d <= 0 {
			return fmt.Errorf("WithMaxRetryWait: %v must be positive (it caps waits; 0 would refuse every one)", d)
		}
		s.MaxRetryWait = d
		return nil
	}
}

// WithMaxAttempts sets how many requests one logical operation may send
// (1 disables retries). The default is 3.
func WithMaxAttempts(n int) Option {
	return func(s *Settings) error {
		if n < 1 || n > 10 {
			return fmt.Errorf("WithMaxAttempts: %d is outside 1..10", n)
		}
		s.MaxAttempts = n
		return nil
	}
}

// WithRetryBackoff shapes the full-jitter exponential backoff between
// retries: the n-th wait is random in [0, min(max, base*2^n)].
func WithRetryBackoff(base, max time.Duration) Option {
	return func(s *Settings) error {
		if base <= 0 || max < base {
			return fmt.Errorf("WithRetryBackoff: want 0 < base <= max, got %v, %v", base, max)
		}
		s.RetryBaseWait, s.RetryMaxWait = base, max
		return nil
	}
}

// WithLogger makes the client log each attempt at debug level and failures
// at warn level. Credentials, headers and query strings are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *Settings) error {
		s.Logger = l
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(s *Settings) error {
		if strings.ContainsAny(ua, "\r\n") {
			return errors.New("WithUserAgent: value contains a line break")
		}
		s.UserAgent = ua
		return nil
	}
}

// WithState makes the client keep its shared state (rate windows, the 429
// gate, per-endpoint limits) in st instead of state.Default(): for
// example a telephony/redisstate store, so every replica of a backend
// shares one provider budget.
func WithState(st *state.Store) Option {
	return func(s *Settings) error {
		if st == nil {
			return errors.New("WithState: nil *state.Store")
		}
		s.State = st
		return nil
	}
}
