package telephony_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// handler is the one shape all six inbound handlers share.
type handler interface {
	http.Handler
	Close(context.Context) error
	Stats() telephony.HandlerStats
}

var _ handler = telephony.Handler(nil)

// recorder is a tiny Observer (our own interface) that keeps the
// deliveries handlers report.
type recorder struct {
	mu sync.Mutex
	ds []telephony.Delivery
}

func (r *recorder) StartOperation(ctx context.Context, _ telephony.Operation) (context.Context, func(telephony.OperationResult)) {
	return ctx, func(telephony.OperationResult) {}
}

func (r *recorder) StartAttempt(ctx context.Context, _ telephony.Operation, _ int) (context.Context, func(telephony.AttemptResult)) {
	return ctx, func(telephony.AttemptResult) {}
}

func (r *recorder) Delivery(_ context.Context, d telephony.Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ds = append(r.ds, d)
}

func (r *recorder) all() []telephony.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]telephony.Delivery(nil), r.ds...)
}

// hooks is what each handler is built with: the user's functions, which
// fail, and the common options.
type hooks struct {
	fn      telephony.EventFunc
	route   telephony.RouteFunc
	obs     telephony.Observer
	onError func(context.Context, *telephony.HandlerError)
}

type requestIDKey struct{}

// withRequestID is the user's middleware: a request-scoped value.
func withRequestID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, "req-42")))
	})
}

const (
	dialpadSecret  = "dialpad-secret-of-at-least-32-characters!"
	aircallToken   = "aircall-webhook-token"
	justcallToken  = "justcall-callback-token-0123456789"
	dialpadCallID  = 5550001
	fallbackUserID = "9000"
)

func dialpadJWT(t *testing.T, claims jwt.MapClaims) []byte {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(dialpadSecret))
	require.NoError(t, err)
	return []byte(s)
}

func post(t *testing.T, url, contentType string, body []byte) int {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// handlerCase builds one of the six handlers and makes one genuine
// delivery to it.
type handlerCase struct {
	provider, kind string
	build          func(t *testing.T, hk hooks) (handler, error)
	deliver        func(t *testing.T, url string) int
}

func handlerCases(t *testing.T) []handlerCase {
	jc := justcalltest.NewServer()
	t.Cleanup(jc.Close)
	ac := aircalltest.NewServer()
	t.Cleanup(ac.Close)
	ac.SeedUsers(1)
	aircallClient, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(ac.URL()))
	require.NoError(t, err)
	return []handlerCase{
		{telephony.ProviderJustCall, "webhook",
			func(t *testing.T, hk hooks) (handler, error) {
				return justcall.NewWebhookHandler(hk.fn, justcall.WebhookOptions{Secret: justcalltest.APISecret,
					OnError: hk.onError, Observer: hk.obs})
			},
			func(t *testing.T, url string) int {
				code, err := jc.SendWebhook(url, "call.completed", map[string]any{"id": 7001, "contact_number": "14155550123"})
				require.NoError(t, err)
				return code
			}},
		{telephony.ProviderJustCall, "callback",
			func(t *testing.T, hk hooks) (handler, error) {
				return justcall.NewCallbackHandler(hk.fn, justcall.CallbackOptions{Secret: justcallToken,
					OnError: hk.onError, Observer: hk.obs})
			},
			func(t *testing.T, url string) int {
				return post(t, url+"?"+justcall.CallbackTokenParam+"="+justcallToken, "application/json",
					[]byte(`{"call_id":"7002","status":"completed","duration":"12"}`))
			}},
		{telephony.ProviderDialpad, "webhook",
			func(t *testing.T, hk hooks) (handler, error) {
				return dialpad.NewWebhookHandler(hk.fn, dialpad.WebhookOptions{Secret: dialpadSecret,
					OnError: hk.onError, Observer: hk.obs})
			},
			func(t *testing.T, url string) int {
				return post(t, url, "application/jwt", dialpadJWT(t, jwt.MapClaims{"call_id": dialpadCallID, "state": "hangup",
					"direction": "inbound", "event_timestamp": 1712345740001}))
			}},
		{telephony.ProviderDialpad, "routing",
			func(t *testing.T, hk hooks) (handler, error) {
				return dialpad.NewRoutingHandler(hk.route, dialpad.RoutingOptions{Secret: dialpadSecret,
					Fallback: telephony.UserTarget(fallbackUserID), OnError: hk.onError, Observer: hk.obs})
			},
			func(t *testing.T, url string) int {
				return post(t, url, "application/jwt", dialpadJWT(t, jwt.MapClaims{"call_id": dialpadCallID,
					"external_number": "+14155550123", "internal_number": "+14155550100"}))
			}},
		{telephony.ProviderAircall, "webhook",
			func(t *testing.T, hk hooks) (handler, error) {
				return aircall.NewWebhookHandler(hk.fn, aircall.WebhookOptions{Secret: aircallToken,
					OnError: hk.onError, Observer: hk.obs})
			},
			func(t *testing.T, url string) int {
				ac.SetWebhook(url, aircallToken)
				code, err := ac.DeliverEvent("call.created", ac.CreateInboundCall("+33612345678", "+14155000001"))
				require.NoError(t, err)
				return code
			}},
		{telephony.ProviderAircall, "routing",
			func(t *testing.T, hk hooks) (handler, error) {
				return aircall.NewRoutingHandler(hk.route, aircall.RoutingOptions{Secret: aircallToken, Client: aircallClient,
					OnError: hk.onError, Observer: hk.obs})
			},
			func(t *testing.T, url string) int {
				ac.SetWebhook(url, aircallToken)
				code, err := ac.DeliverEvent("call.created", ac.CreateInboundCall("+33612345679", "+14155000001"))
				require.NoError(t, err)
				return code
			}},
	}
}

var errBoom = errors.New("the user's function failed")

// TestHandlersOneShape builds the six handlers the same way and uses them
// through one small interface: a genuine delivery whose function fails is
// answered 200, the function sees the request's context values, OnError is
// told (with the provider, the handler and the cause), the Observer gets
// the answered request, and Stats counts it.
func TestHandlersOneShape(t *testing.T) {
	for _, tc := range handlerCases(t) {
		t.Run(tc.provider+"/"+tc.kind, func(t *testing.T) {
			rec := &recorder{}
			var mu sync.Mutex
			var reported []*telephony.HandlerError
			seen := make(chan any, 4)
			hk := hooks{
				fn: func(ctx context.Context, ev telephony.CallEvent) error {
					assert.NotEmpty(t, ev.Raw, "CallEvent.Raw: the provider's payload")
					seen <- ctx.Value(requestIDKey{})
					return errBoom
				},
				route: func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
					seen <- ctx.Value(requestIDKey{})
					return telephony.Target{}, errBoom
				},
				obs: rec,
				onError: func(_ context.Context, err *telephony.HandlerError) {
					mu.Lock()
					defer mu.Unlock()
					reported = append(reported, err)
				},
			}
			h, err := tc.build(t, hk)
			require.NoError(t, err)
			srv := httptest.NewServer(withRequestID(h))
			defer srv.Close()

			status := tc.deliver(t, srv.URL)
			var value any
			select {
			case value = <-seen:
			case <-time.After(5 * time.Second):
				t.Fatal("the user's function was not called")
			}
			require.NoError(t, h.Close(t.Context()))
			rejected := post(t, srv.URL, "application/json", []byte(`{}`))

			s := h.Stats()
			ds := rec.all()
			mu.Lock()
			defer mu.Unlock()
			t.Logf("%s %s: status=%d, request value=%v, OnError=%d, deliveries=%+v, stats=%+v",
				tc.provider, tc.kind, status, value, len(reported), ds, s)
			assert.Equal(t, http.StatusOK, status, "a genuine delivery")
			assert.Equal(t, "req-42", value, "the request's context value reaches the user's function")
			if assert.NotEmpty(t, reported, "OnError") {
				e := reported[0]
				assert.Equal(t, tc.provider, e.Provider)
				assert.Equal(t, tc.kind, e.Handler)
				assert.ErrorIs(t, e, errBoom)
				assert.NotEmpty(t, e.CallID)
				assert.True(t, e.Event != nil || e.Call != nil, "the event or the call")
			}
			assert.Equal(t, int64(2), s.Received, "stats %+v", s)
			assert.Equal(t, int64(1), s.RejectedTotal(), "an unsigned {} is refused: stats %+v", s)
			assert.Contains(t, []int{http.StatusUnauthorized, http.StatusBadRequest}, rejected, "an unsigned {}")
			if assert.Len(t, ds, 2, "deliveries observed") {
				d := ds[0]
				assert.Equal(t, tc.provider, d.Provider)
				assert.Equal(t, tc.kind, d.Handler)
				assert.Equal(t, http.StatusOK, d.Status)
				assert.NotEmpty(t, d.CallID)
				assert.Positive(t, d.Latency)
				assert.Equal(t, "rejected", ds[1].Result)
				assert.Equal(t, rejected, ds[1].Status)
				if tc.provider == telephony.ProviderDialpad && tc.kind == "routing" {
					assert.Equal(t, "fallback", d.Result)
					assert.Equal(t, string(dialpad.FallbackError), d.Decision)
					assert.Equal(t, int64(1), s.Fallbacks[dialpad.FallbackError], "stats %+v", s)
				} else {
					assert.Equal(t, "accepted", d.Result)
					assert.Equal(t, int64(1), s.Accepted, "stats %+v", s)
					assert.Equal(t, int64(1), s.Failed, "stats %+v", s)
				}
			}
		})
	}
}

// TestHandlersConstructorErrors: every constructor's errors match
// telephony.ErrInvalidRequest and are *telephony.Error.
func TestHandlersConstructorErrors(t *testing.T) {
	fn := func(context.Context, telephony.CallEvent) error { return nil }
	route := func(context.Context, telephony.InboundCall) (telephony.Target, error) { return telephony.Target{}, nil }
	ac, err := aircall.New("id", "token")
	require.NoError(t, err)
	for name, build := range map[string]func() (handler, error){
		"justcall webhook: no secret":  func() (handler, error) { return justcall.NewWebhookHandler(fn, justcall.WebhookOptions{}) },
		"justcall webhook: nil fn":     func() (handler, error) { return justcall.NewWebhookHandler(nil, justcall.WebhookOptions{Secret: "s"}) },
		"justcall callback: no secret": func() (handler, error) { return justcall.NewCallbackHandler(fn, justcall.CallbackOptions{}) },
		"justcall callback: short": func() (handler, error) {
			return justcall.NewCallbackHandler(fn, justcall.CallbackOptions{Secret: "short"})
		},
		"justcall callback: nil fn": func() (handler, error) {
			return justcall.NewCallbackHandler(nil, justcall.CallbackOptions{AllowUnauthenticated: true})
		},
		"dialpad webhook: no secret": func() (handler, error) { return dialpad.NewWebhookHandler(fn, dialpad.WebhookOptions{}) },
		"dialpad webhook: nil fn": func() (handler, error) {
			return dialpad.NewWebhookHandler(nil, dialpad.WebhookOptions{Secret: dialpadSecret})
		},
		"dialpad routing: short secret": func() (handler, error) {
			return dialpad.NewRoutingHandler(route, dialpad.RoutingOptions{Secret: "short"})
		},
		"dialpad routing: no fallback": func() (handler, error) {
			return dialpad.NewRoutingHandler(route, dialpad.RoutingOptions{Secret: dialpadSecret})
		},
		"aircall webhook: no secret": func() (handler, error) { return aircall.NewWebhookHandler(fn, aircall.WebhookOptions{}) },
		"aircall webhook: nil fn":    func() (handler, error) { return aircall.NewWebhookHandler(nil, aircall.WebhookOptions{Secret: "t"}) },
		"aircall routing: no client": func() (handler, error) {
			return aircall.NewRoutingHandler(route, aircall.RoutingOptions{Secret: "t"})
		},
		"aircall routing: no secret": func() (handler, error) {
			return aircall.NewRoutingHandler(route, aircall.RoutingOptions{Client: ac})
		},
		"aircall routing: nil route": func() (handler, error) {
			return aircall.NewRoutingHandler(nil, aircall.RoutingOptions{Client: ac, Secret: "t"})
		},
	} {
		_, err := build()
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, name)
		var te *telephony.Error
		assert.ErrorAs(t, err, &te, name)
		if err != nil {
			assert.NotContains(t, fmt.Sprint(err), dialpadSecret, "%s: the secret in the error", name)
		}
	}
}
