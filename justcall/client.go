package justcall

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// DefaultBaseURL is JustCall's API host. Paths keep their version
// (/v2/calls/make, /v2.1/users).
const DefaultBaseURL = "https://api.justcall.io"

// Team-plan rate limits (developer.justcall.io/docs/rate-limits): the client
// starts from these and corrects them from the X-Rate-Limit-* headers of
// every answer, so accounts on bigger plans speed up after one request.
const (
	DefaultBurstPerMinute = 30
	DefaultPerHour        = 1800
)

// Client is a JustCall API client. Build it with New; it is safe for
// concurrent use.
type Client struct {
	// Calls places click-to-call calls.
	Calls *CallsService
	// Users lists the account's agents.
	Users *UsersService

	t             *transport.Client
	callbackToken atomic.Pointer[string]
	makePath      atomic.Pointer[string]
}

// New returns a client for the JustCall account identified by apiKey and
// apiSecret. They are sent as the raw header "Authorization: key:secret"
// (no Basic scheme, no base64: JustCall answers 401 to those), never in a
// URL, log line or error. Clients built with the same credentials and base
// URL share one rate limiter and retry budget.
func New(apiKey, apiSecret string, opts ...telephony.Option) (*Client, error) {
	if apiKey == "" || apiSecret == "" {
		return nil, errors.New("justcall.New: the API key and the API secret are both required")
	}
	s, err := telephony.NewSettings(opts...)
	if err != nil {
		return nil, err
	}
	auth := apiKey + ":" + apiSecret
	t, err := transport.New(transport.Config{
		Provider:       telephony.ProviderJustCall,
		DefaultBaseURL: DefaultBaseURL,
		Credential:     auth,
		Authorize:      func(h http.Header) { h.Set("Authorization", auth) },
		Windows: []transport.Window{
			{Limit: DefaultBurstPerMinute, Period: time.Minute},
			{Limit: DefaultPerHour, Period: time.Hour},
		},
		RateHeaders: []transport.HeaderWindow{
			{Limit: "X-Rate-Limit-Burst-Limit", Remaining: "X-Rate-Limit-Burst-Remaining", Reset: "X-Rate-Limit-Burst-Reset", Window: 0},
			{Limit: "X-Rate-Limit-Limit", Remaining: "X-Rate-Limit-Remaining", Reset: "X-Rate-Limit-Reset", Window: 1},
		},
		Settings: s,
	})
	if err != nil {
		return nil, err
	}
	c := &Client{t: t}
	c.Calls = &CallsService{c: c}
	c.Users = &UsersService{c: c}
	return c, nil
}

// SetCallbackToken makes Calls.Make add token to every callback_url it sends,
// as the query parameter CallbackTokenParam, so that a handler built by
// NewCallbackHandler with the same CallbackOptions.Secret can tell JustCall's
// callbacks from forged ones. An empty token turns this off. The token is
// not the API secret: never use the API key or secret here, since JustCall
// stores and resends the URL. See NewCallbackHandler for what it protects.
func (c *Client) SetCallbackToken(token string) error {
	if token == "" {
		c.callbackToken.Store(nil)
		return nil
	}
	if len(token) < minCallbackToken {
		return telephony.InvalidArgument(telephony.ProviderJustCall, "SetCallbackToken",
			"the callback token must be at least %d characters; use NewCallbackToken", minCallbackToken)
	}
	c.callbackToken.Store(&token)
	return nil
}

// SetMakeCallPath sets the path Calls.Make (and the portable Dial) posts
// to, for example "/v2.1/calls/make" if JustCall names another endpoint
// for your account; "" restores DefaultMakeCallPath. The path is joined to
// the base URL (telephony.WithBaseURL) and keeps its version prefix; the
// body and the answer stay those of the click-to-call guide. A path that
// does not start with '/' or holds a query, fragment or "..", is refused.
func (c *Client) SetMakeCallPath(path string) error {
	if path == "" {
		c.makePath.Store(nil)
		return nil
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") || strings.Contains(path, "..") {
		return telephony.InvalidArgument(telephony.ProviderJustCall, "SetMakeCallPath",
			"path %q must start with '/' and hold no query, fragment or \"..\", e.g. %q", path, DefaultMakeCallPath)
	}
	c.makePath.Store(&path)
	return nil
}

// makeCallPath is the path Calls.Make posts to.
func (c *Client) makeCallPath() string {
	if p := c.makePath.Load(); p != nil {
		return *p
	}
	return DefaultMakeCallPath
}

func (c *Client) token() string {
	if p := c.callbackToken.Load(); p != nil {
		return *p
	}
	return ""
}

// NewCallbackToken returns a random token (256 bits, URL-safe) for
// SetCallbackToken and CallbackOptions.Secret.
func NewCallbackToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
