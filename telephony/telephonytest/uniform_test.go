package telephonytest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// uniformSim is one simulator seen through the surface the three share.
// Each field calls exactly one uniform method (SeedUsers, AddUser,
// SetRateLimits, Throttled, AddWebhook, SimulateInbound, FlushEvents,
// InjectFault); only the provider's own types differ (its User,
// RateLimit and InboundCall).
type uniformSim struct {
	seedUsers       func(n int) (numbers []string) // SeedUsers: the users' numbers
	addUser         func(email string)             // AddUser
	setRateLimit    func(n int, retryAfter string) // SetRateLimits: n requests, then 429s
	liftRateLimit   func()                         // SetRateLimits with the zero RateLimit
	throttled       func() int                     // Throttled
	addWebhook      func(url, secret string)       // AddWebhook
	simulateInbound func(ctx context.Context, from, to string) (callID string, err error)
	flushEvents     func()                    // FlushEvents
	injectFault     func(telephonytest.Fault) // InjectFault
	count           func(method, pathPrefix string) int

	// What the test needs of the provider besides the simulator.
	url       string
	usersPath string
	authorize func(*http.Request)
	client    func(opts ...telephony.Option) (*telephony.Client, error)
	handler   func(secret string, fn telephony.EventFunc) (http.Handler, error)
}

func newUniformJustCall(t *testing.T) uniformSim {
	sim := justcalltest.NewServer()
	t.Cleanup(sim.Close)
	return uniformSim{
		seedUsers: func(n int) []string {
			var out []string
			for _, u := range sim.SeedUsers(n) {
				out = append(out, u.Numbers[0])
			}
			return out
		},
		addUser: func(email string) { sim.AddUser(justcalltest.User{Name: "Added", Email: email}) },
		setRateLimit: func(n int, ra string) {
			sim.SetRateLimits(justcalltest.RateLimit{PerMinute: n, RetryAfter: ra})
		},
		liftRateLimit: func() { sim.SetRateLimits(justcalltest.RateLimit{}) },
		throttled:     sim.Throttled,
		addWebhook:    func(url, secret string) { sim.AddWebhook(url, secret) },
		simulateInbound: func(ctx context.Context, from, to string) (string, error) {
			res, err := sim.SimulateInbound(ctx, justcalltest.InboundCall{From: from, To: to})
			return res.CallID, err
		},
		flushEvents: sim.FlushEvents,
		injectFault: sim.InjectFault,
		count:       sim.Count,
		url:         sim.URL(),
		usersPath:   "/v2.1/users",
		authorize: func(r *http.Request) {
			r.Header.Set("Authorization", justcalltest.APIKey+":"+justcalltest.APISecret)
		},
		client: func(opts ...telephony.Option) (*telephony.Client, error) {
			c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, append(opts, telephony.WithBaseURL(sim.URL()))...)
			if err != nil {
				return nil, err
			}
			return c.Telephony(), nil
		},
		handler: func(secret string, fn telephony.EventFunc) (http.Handler, error) {
			return justcall.NewWebhookHandler(fn, justcall.WebhookOptions{Secret: secret})
		},
	}
}

func newUniformDialpad(t *testing.T) uniformSim {
	sim := dialpadtest.NewServer()
	t.Cleanup(sim.Close)
	return uniformSim{
		seedUsers: func(n int) []string {
			var out []string
			for _, u := range sim.SeedUsers(n) {
				out = append(out, u.PhoneNumbers[0])
			}
			return out
		},
		addUser: func(email string) { sim.AddUser(dialpadtest.User{FirstName: "Added", Email: email}) },
		setRateLimit: func(n int, ra string) {
			sim.SetRateLimits(dialpadtest.RateLimit{CompanyPerSecond: n, RetryAfter: ra})
		},
		liftRateLimit: func() { sim.SetRateLimits(dialpadtest.RateLimit{}) },
		throttled:     sim.Throttled,
		addWebhook:    func(url, secret string) { sim.AddWebhook(url, secret) },
		simulateInbound: func(ctx context.Context, from, to string) (string, error) {
			res, err := sim.SimulateInbound(ctx, dialpadtest.InboundCall{From: from, To: to})
			return strconv.FormatInt(res.CallID, 10), err
		},
		flushEvents: sim.FlushEvents,
		injectFault: sim.InjectFault,
		count:       sim.Count,
		url:         sim.URL(),
		usersPath:   "/api/v2/users",
		authorize:   func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+dialpadtest.APIKey) },
		client: func(opts ...telephony.Option) (*telephony.Client, error) {
			c, err := dialpad.New(dialpadtest.APIKey, append(opts, telephony.WithBaseURL(sim.URL()))...)
			if err != nil {
				return nil, err
			}
			return c.Telephony(), nil
		},
		handler: func(secret string, fn telephony.EventFunc) (http.Handler, error) {
			return dialpad.NewWebhookHandler(fn, dialpad.WebhookOptions{Secret: secret})
		},
	}
}

func newUniformAircall(t *testing.T) uniformSim {
	sim := aircalltest.NewServer()
	t.Cleanup(sim.Close)
	return uniformSim{
		seedUsers: func(n int) []string {
			var out []string
			for _, u := range sim.SeedUsers(n) {
				out = append(out, u.Numbers[0].Digits)
			}
			return out
		},
		addUser: func(email string) { sim.AddUser(aircalltest.User{Name: "Added", Email: email}) },
		setRateLimit: func(n int, ra string) {
			// Aircall's windows are aligned to the clock's minutes: keep
			// the next few requests inside one.
			if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 3*time.Second {
				time.Sleep(left + 10*time.Millisecond)
			}
			sim.SetRateLimits(aircalltest.RateLimit{PerMinute: n, RetryAfter: ra})
		},
		liftRateLimit: func() { sim.SetRateLimits(aircalltest.RateLimit{}) },
		throttled:     sim.Throttled,
		addWebhook:    func(url, secret string) { sim.AddWebhook(url, secret) },
		simulateInbound: func(ctx context.Context, from, to string) (string, error) {
			res, err := sim.SimulateInbound(ctx, aircalltest.InboundCall{From: from, To: to})
			return strconv.FormatInt(res.CallID, 10), err
		},
		flushEvents: sim.FlushEvents,
		injectFault: sim.InjectFault,
		count:       sim.Count,
		url:         sim.URL(),
		usersPath:   "/v1/users",
		authorize:   func(r *http.Request) { r.SetBasicAuth(aircalltest.APIID, aircalltest.APIToken) },
		client: func(opts ...telephony.Option) (*telephony.Client, error) {
			c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(opts, telephony.WithBaseURL(sim.URL()))...)
			if err != nil {
				return nil, err
			}
			return c.Telephony(), nil
		},
		handler: func(secret string, fn telephony.EventFunc) (http.Handler, error) {
			return aircall.NewWebhookHandler(fn, aircall.WebhookOptions{Secret: secret})
		},
	}
}

// TestSimulatorsShareOneSurface drives the three simulators through the
// same sequence of uniform calls (seed users, add one, rate limit,
// webhook, inbound call, flush, fault) and asserts the same outcomes,
// each through the provider's own client or webhook handler.
func TestSimulatorsShareOneSurface(t *testing.T) {
	for name, newSim := range map[string]func(*testing.T) uniformSim{
		telephony.ProviderJustCall: newUniformJustCall,
		telephony.ProviderDialpad:  newUniformDialpad,
		telephony.ProviderAircall:  newUniformAircall,
	} {
		t.Run(name, func(t *testing.T) {
			sim := newSim(t)
			ctx := t.Context()
			// A fresh client each time, with a state of its own: the rate
			// windows and the 429 gate it learns start over.
			client := func() *telephony.Client {
				st := state.Memory()
				t.Cleanup(func() { _ = st.Close() })
				c, err := sim.client(telephony.WithMaxAttempts(1), telephony.WithRateLimit(rate.Inf, 1), telephony.WithState(st))
				require.NoError(t, err)
				return c
			}
			emails := func(c *telephony.Client) ([]string, error) {
				var out []string
				for u, err := range c.Users(ctx) {
					if err != nil {
						return out, err
					}
					out = append(out, u.Email)
				}
				return out, nil
			}
			get := func() *http.Response {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, sim.url+sim.usersPath, nil)
				require.NoError(t, err)
				sim.authorize(req)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				return resp
			}
			t.Cleanup(http.DefaultClient.CloseIdleConnections)

			// Seed users and add one: the provider's client lists them.
			numbers := sim.seedUsers(2)
			require.Len(t, numbers, 2)
			sim.addUser("added@example.com")
			got, err := emails(client())
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{"agent1@example.com", "agent2@example.com", "added@example.com"}, got)

			// A rate limit of 2: the third request gets 429 with the
			// Retry-After asked for, Throttled counts it, and the zero
			// RateLimit lifts the limit.
			sim.setRateLimit(2, "7")
			statuses := []int{get().StatusCode, get().StatusCode}
			third := get()
			statuses = append(statuses, third.StatusCode)
			assert.Equal(t, []int{200, 200, 429}, statuses)
			assert.Equal(t, "7", third.Header.Get("Retry-After"))
			assert.Equal(t, 1, sim.throttled())
			_, err = emails(client())
			require.ErrorIs(t, err, telephony.ErrRateLimited, "the provider's client sees the limit")
			sim.liftRateLimit()
			assert.Equal(t, 200, get().StatusCode, "after SetRateLimits(RateLimit{})")

			// A webhook with a secret, received by the provider's own
			// handler, which verifies it with that secret.
			const secret = "uniform-secret"
			events := make(chan telephony.CallEvent, 16)
			h, err := sim.handler(secret, func(_ context.Context, ev telephony.CallEvent) error {
				events <- ev
				return nil
			})
			require.NoError(t, err)
			recv := httptest.NewServer(h)
			t.Cleanup(func() {
				recv.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = h.(interface{ Close(context.Context) error }).Close(ctx)
			})
			sim.addWebhook(recv.URL, secret)

			// An inbound call to the first user's number: after FlushEvents
			// the handler has it as a ringing inbound call.
			callID, err := sim.simulateInbound(ctx, "+33612345678", numbers[0])
			require.NoError(t, err)
			require.NotEmpty(t, callID)
			sim.flushEvents()
			select {
			case ev := <-events:
				assert.Equal(t, name, ev.Provider)
				assert.Equal(t, callID, ev.CallID)
				assert.Equal(t, telephony.DirectionInbound, ev.Direction)
				assert.Equal(t, telephony.StatusRinging, ev.Status)
				assert.Equal(t, "+33612345678", ev.From)
				assert.Equal(t, telephony.NormalizeNumber(numbers[0]), ev.To)
			case <-time.After(10 * time.Second):
				t.Fatal("no call event reached the webhook handler")
			}

			// A fault: the next listing fails with the injected 503, the
			// one after it succeeds, and both were received (Aircall's
			// listing reads /v1/users/availabilities too).
			before := sim.count(http.MethodGet, sim.usersPath)
			sim.injectFault(telephonytest.Fault{Method: http.MethodGet, Path: sim.usersPath, Status: http.StatusServiceUnavailable})
			_, err = emails(client())
			require.ErrorIs(t, err, telephony.ErrUnavailable)
			got, err = emails(client())
			require.NoError(t, err)
			assert.Len(t, got, 3)
			assert.GreaterOrEqual(t, sim.count(http.MethodGet, sim.usersPath), before+2)
		})
	}
}
