package aircall

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// DefaultBaseURL is Aircall's public API host. Request paths carry their
// version (/v1/...), so WithBaseURL takes scheme://host[/prefix] only.
const DefaultBaseURL = "https://api.aircall.io"

// DefaultRateLimit is the documented steady limit per company: 60 requests
// a minute. Sources disagree (some say 120); the X-AircallApi-Limit header of
// every answer corrects it, so the number only matters until the first
// response.
const DefaultRateLimit = 60

// Rate-limit headers Aircall sends on every answer. The reset value is a
// Unix time in seconds.
const (
	HeaderRateLimit     = "X-AircallApi-Limit"
	HeaderRateRemaining = "X-AircallApi-Remaining"
	HeaderRateReset     = "X-AircallApi-Reset"
)

// Client is an Aircall Public API (v1) client for one company. It is safe
// for concurrent use. Clients built with the same credentials and base URL
// share one rate limiter, whichever package or goroutine built them.
type Client struct {
	// Users lists agents, looks them up by email and starts outbound calls.
	Users *UsersService
	// Calls reads and transfers calls.
	Calls *CallsService
	// Teams lists and reads teams.
	Teams *TeamsService

	t *transport.Client
}

// New returns a client authenticating with HTTP Basic auth
// (base64(apiID:apiToken)) in the Authorization header. The credentials are
// never put in a URL, a log line or an error.
func New(apiID, apiToken string, opts ...telephony.Option) (*Client, error) {
	if apiID == "" || apiToken == "" {
		return nil, errors.New("aircall: New needs the API ID and the API token (Company settings > API Keys)")
	}
	if strings.Contains(apiID, ":") {
		return nil, errors.New("aircall: the API ID cannot contain ':' (HTTP Basic auth separates id and token with it)")
	}
	if strings.ContainsAny(apiID+apiToken, "\r\n") {
		return nil, errors.New("aircall: the API ID or token contains a line break")
	}
	s, err := telephony.NewSettings(opts...)
	if err != nil {
		return nil, err
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(apiID+":"+apiToken))
	t, err := transport.New(transport.Config{
		Provider:       telephony.ProviderAircall,
		DefaultBaseURL: DefaultBaseURL,
		Credential:     apiID + ":" + apiToken,
		Authorize:      func(h http.Header) { h.Set("Authorization", auth) },
		Windows:        []transport.Window{{Limit: DefaultRateLimit, Period: time.Minute}},
		RateHeaders: []transport.HeaderWindow{{
			Limit: HeaderRateLimit, Remaining: HeaderRateRemaining, Reset: HeaderRateReset, Window: 0,
		}},
		Settings: s,
	})
	if err != nil {
		return nil, err
	}
	c := &Client{t: t}
	c.Users = &UsersService{c: c, dir: newDirectory()}
	c.Calls = &CallsService{c: c}
	c.Teams = &TeamsService{c: c}
	c.Users.dir.list = c.Users.listAll
	return c, nil
}

// op names an operation in errors built before sending.
func op(method, route string) string { return method + " " + route }
