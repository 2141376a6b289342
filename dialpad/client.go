package dialpad

import (
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// DefaultBaseURL is Dialpad's API host; every path starts with /api/v2/.
// Dialpad's sandbox is https://sandbox.dialpad.com (pass it to
// telephony.WithBaseURL).
const DefaultBaseURL = "https://dialpad.com"

// CompanyRateLimit is Dialpad's documented company-wide limit: 20 requests
// per second, shared by every client using the same API key.
const CompanyRateLimit = 20

// Client is a Dialpad API v2 client. Build it with New. It is safe for
// concurrent use; clients built with the same API key and base URL share one
// rate limiter (Dialpad's limits are per company, not per connection).
type Client struct {
	t *transport.Client

	// CallRouters manages API call routers (inbound routing through your
	// routing_url).
	CallRouters *CallRoutersService
	// Users lists the company's users and finds them by email.
	Users *UsersService
	// Calls places click-to-call calls and transfers live calls.
	Calls *CallsService
}

// New returns a client authenticating with apiKey, a company-admin API key
// or an OAuth access token. The key is sent as "Authorization: Bearer" on
// every request, never in the URL (Dialpad also accepts ?apikey=, which
// would leak it into logs and proxies).
func New(apiKey string, opts ...telephony.Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, "New", "the API key is empty")
	}
	if strings.ContainsAny(apiKey, "\r\n") {
		return nil, telephony.InvalidArgument(telephony.ProviderDialpad, "New", "the API key contains a line break")
	}
	s, err := telephony.NewSettings(opts...)
	if err != nil {
		return nil, err
	}
	bearer := "Bearer " + apiKey
	t, err := transport.New(transport.Config{
		Provider:       telephony.ProviderDialpad,
		DefaultBaseURL: DefaultBaseURL,
		Credential:     apiKey,
		Authorize:      func(h http.Header) { h.Set("Authorization", bearer) },
		// Dialpad documents no rate-limit headers, so the steady limit is
		// all the client knows; 429s are handled by the transport.
		Windows:  []transport.Window{{Limit: CompanyRateLimit, Period: time.Second}},
		Settings: s,
	})
	if err != nil {
		return nil, err
	}
	c := &Client{t: t}
	c.CallRouters = &CallRoutersService{c: c}
	c.Users = newUsersService(c)
	c.Calls = &CallsService{c: c}
	return c, nil
}

// BaseURL returns the scheme://host[/prefix] requests go to.
func (c *Client) BaseURL() string { return c.t.BaseURL() }

// maxWait is the longest a client-side per-endpoint limiter may make a
// caller sleep before failing fast with ErrRateLimited.
func (c *Client) maxWait() time.Duration { return c.t.Settings().MaxRetryWait }

// rateLimited builds the error returned when a client-side limit refuses a
// request without sending it.
func rateLimited(op string, wait time.Duration, msg string) error {
	return &telephony.Error{
		Kind:       telephony.ErrRateLimited,
		Provider:   telephony.ProviderDialpad,
		Op:         op,
		RetryAfter: wait,
		Message:    msg + "; nothing was sent",
	}
}

func invalid(op, format string, args ...any) error {
	return telephony.InvalidArgument(telephony.ProviderDialpad, op, format, args...)
}
