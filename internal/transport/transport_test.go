package transport

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
)

// R11: credentials never reach a log line or an error string.
func TestR11NoSecretsInLogsOrErrors(t *testing.T) {
	var seenAuth atomic.Value
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		seenAuth.Store(r.Header.Get("Authorization"))
		http.Error(w, `{"message":"boom"}`, http.StatusInternalServerError)
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, srv.URL, telephony.WithLogger(logger))
	var errText strings.Builder
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		_, err := c.Do(t.Context(), &Request{Method: m, Path: "/v1/calls", Query: url.Values{"api_key": {"QUERYSECRET"}}})
		errText.WriteString(err.Error())
	}
	srv.Close() // now connection refused, another error path
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/v1/calls", Query: url.Values{"api_key": {"QUERYSECRET"}}})
	errText.WriteString(err.Error())
	if seenAuth.Load() != "apiKey123:apiSecret456" {
		t.Fatalf("credentials not sent in the header: %v", seenAuth.Load())
	}
	if logs.Len() == 0 {
		t.Fatal("debug logger received nothing")
	}
	for _, secret := range []string{"apiKey123", "apiSecret456", "QUERYSECRET", "Authorization"} {
		nLog, nErr := strings.Count(logs.String(), secret), strings.Count(errText.String(), secret)
		t.Logf("R11 %-13s hits in logs=%d in errors=%d", secret, nLog, nErr)
		if nLog+nErr != 0 {
			t.Errorf("%s leaked:\n%s\n%s", secret, logs.String(), errText.String())
		}
	}
}

func TestSilentByDefault(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1")
	if c.log.Enabled(t.Context(), slog.LevelError) {
		t.Fatal("default logger is not silent")
	}
}

func TestBaseURLRejectsCredentials(t *testing.T) {
	_, err := telephony.NewSettings(telephony.WithBaseURL("https://key:secret@api.example.com"))
	if err == nil || strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), "key:secret") {
		t.Fatalf("want an error without the credentials, got %v", err)
	}
}

func TestErrorMapping(t *testing.T) {
	for status, kind := range map[int]error{
		400: telephony.ErrInvalidRequest, 422: telephony.ErrInvalidRequest, 401: telephony.ErrUnauthorized,
		403: telephony.ErrUnauthorized, 404: telephony.ErrNotFound, 409: telephony.ErrConflict,
		429: telephony.ErrRateLimited, 500: telephony.ErrUnavailable,
	} {
		srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"status":"error","message":"provider says ` + http.StatusText(status) + `"}` + strings.Repeat(" ", 2000)))
		})
		_, err := newTestClient(t, srv.URL).Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"})
		srv.Close()
		var te *telephony.Error
		if !errors.Is(err, kind) || !errors.As(err, &te) || te.StatusCode != status ||
			te.Message != "provider says "+http.StatusText(status) || len(te.Body) > 512 {
			t.Errorf("status %d: got %v", status, err)
		}
	}
}

func TestMalformedJSON(t *testing.T) {
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"data": [`)) })
	defer srv.Close()
	var out map[string]any
	_, err := newTestClient(t, srv.URL).Do(t.Context(), &Request{Method: http.MethodPost, Path: "/v2/calls/make", Out: &out})
	if !errors.Is(err, telephony.ErrBadResponse) || !strings.Contains(err.Error(), "do not send it again") {
		t.Fatalf("got %v", err)
	}
}

func TestNextLinkFollowedOnBaseURL(t *testing.T) {
	var seen atomic.Value
	srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.RequestURI())
		_, _ = w.Write([]byte(`{}`))
	})
	defer srv.Close()
	// A link naming another host is followed on our base URL: credentials
	// never leave it. The base's prefix is kept.
	c := newTestClient(t, srv.URL+"/proxy")
	if _, err := c.Do(t.Context(), &Request{Method: http.MethodGet, URL: "https://evil.example.com/v1/users?page=2"}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 1 || seen.Load() != "/proxy/v1/users?page=2" {
		t.Fatalf("followed %v (%d requests)", seen.Load(), n.Load())
	}
	if _, err := c.Do(t.Context(), &Request{Method: http.MethodGet, URL: srv.URL + "/proxy/v1/users?page=3"}); err != nil || seen.Load() != "/proxy/v1/users?page=3" {
		t.Fatal(seen.Load(), err)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example.com/", http.StatusFound)
	})
	defer srv.Close()
	_, err := newTestClient(t, srv.URL).Do(t.Context(), &Request{Method: http.MethodPost, Path: "/x"})
	if !errors.Is(err, telephony.ErrBadResponse) || n.Load() != 1 {
		t.Fatalf("got %v after %d requests", err, n.Load())
	}
}

// An exhausted window closes the gate until its reset, so the next request
// waits instead of drawing a 429.
func TestRateHeadersCloseGate(t *testing.T) {
	var calls atomic.Int64
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("X-Limit", "100")
			w.Header().Set("X-Remaining", "0")
			w.Header().Set("X-Reset", "1") // one second from now
		}
		_, _ = w.Write([]byte(`{}`))
	})
	defer srv.Close()
	c := newTestClientCfg(t, srv.URL, func(cfg *Config) {
		cfg.Windows = []Window{{Limit: 60, Period: time.Minute}}
		cfg.RateHeaders = []HeaderWindow{{Limit: "X-Limit", Remaining: "X-Remaining", Reset: "X-Reset", Window: 0}}
	})
	if _, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	waited := time.Since(start)
	t.Logf("remaining=0 reset=1s: the next request waited %v", waited.Round(time.Millisecond))
	if waited < 900*time.Millisecond {
		t.Fatalf("gate did not hold: waited %v", waited)
	}
	c.account.mu.Lock()
	got := c.account.windows[0].limit
	c.account.mu.Unlock()
	if got != 100 {
		t.Fatalf("limit header not applied: %d", got)
	}
}

func TestSharedAccount(t *testing.T) {
	s, _ := telephony.NewSettings()
	mk := func(cred string) *Client {
		c, err := New(Config{Provider: "p", DefaultBaseURL: "http://127.0.0.1:9", Credential: cred, Authorize: func(http.Header) {}, Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a1, a2, b := mk("a"), mk("a"), mk("b")
	if a1.Account() != a2.Account() || a1.Account() == b.Account() {
		t.Fatal("accounts not shared by credential")
	}
}

func TestKeyedLimiter(t *testing.T) {
	k := (&Account{keyed: map[string]*KeyedLimiter{}}).Keyed("initiate", 12*time.Second, 5)
	for i := range 5 {
		if _, _, ok, _ := k.Take(t.Context(), "u1", 0); !ok {
			t.Fatalf("token %d refused", i)
		}
	}
	_, wait, ok, _ := k.Take(t.Context(), "u1", time.Second)
	if ok || wait < 11*time.Second {
		t.Fatalf("sixth token: ok=%v wait=%v", ok, wait)
	}
}

// A window the provider reports spent for longer than MaxRetryWait makes
// the next call fail at once, saying how long to wait, instead of waiting
// only MaxRetryWait and drawing a 429.
func TestSpentWindowBeyondMaxWaitFailsFast(t *testing.T) {
	srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Limit", "30")
		w.Header().Set("X-Remaining", "0")
		w.Header().Set("X-Reset", "60")
		_, _ = w.Write([]byte(`{}`))
	})
	defer srv.Close()
	c := newTestClientCfg(t, srv.URL, func(cfg *Config) {
		cfg.Windows = []Window{{Limit: 30, Period: time.Minute}}
		cfg.RateHeaders = []HeaderWindow{{Limit: "X-Limit", Remaining: "X-Remaining", Reset: "X-Reset", Window: 0}}
	}, telephony.WithMaxRetryWait(100*time.Millisecond))
	if _, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"})
	var te *telephony.Error
	if !errors.As(err, &te) || !errors.Is(err, telephony.ErrRateLimited) || te.RetryAfter < 59*time.Second ||
		n.Load() != 1 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("got %v after %v and %d requests", err, time.Since(start), n.Load())
	}
}

// Clients built per request with WithRateLimit share the account's limiter
// instead of each getting a fresh burst.
func TestWithRateLimitSharedAcrossClients(t *testing.T) {
	srv, n := counting(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) })
	defer srv.Close()
	s, err := telephony.NewSettings(telephony.WithBaseURL(srv.URL), telephony.WithRateLimit(0.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	mk := func() *Client {
		c, err := New(Config{Provider: "test", Credential: "per-request-clients", Authorize: func(http.Header) {}, Settings: s})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.http.CloseIdleConnections)
		return c
	}
	if _, err := mk().Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = mk().Do(ctx, &Request{Method: http.MethodGet, Path: "/x"})
	if !errors.Is(err, telephony.ErrRateLimited) || n.Load() != 1 {
		t.Fatalf("a second client got a fresh burst: %v, %d requests", err, n.Load())
	}
}

// One far-future reset header cannot close the account for years.
func TestFarFutureResetIsBounded(t *testing.T) {
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Limit", "3")
		w.Header().Set("X-Remaining", "0")
		w.Header().Set("X-Reset", strconv.FormatInt(time.Now().AddDate(10, 0, 0).Unix(), 10))
		_, _ = w.Write([]byte(`{}`))
	})
	defer srv.Close()
	c := newTestClientCfg(t, srv.URL, func(cfg *Config) {
		cfg.Windows = []Window{{Limit: 3, Period: time.Minute}}
		cfg.RateHeaders = []HeaderWindow{{Limit: "X-Limit", Remaining: "X-Remaining", Reset: "X-Reset", Window: 0}}
	})
	if _, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"})
	var te *telephony.Error
	if !errors.As(err, &te) || te.RetryAfter > 2*time.Minute {
		t.Fatalf("want a wait of at most two windows, got %v", err)
	}
}

// A POST answered 429 did nothing: cancelling while waiting to retry is a
// rate-limit error, not an unknown outcome.
func TestCancelAfter429IsNotOutcomeUnknown(t *testing.T) {
	srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "{}", http.StatusTooManyRequests)
	})
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := post(ctx, newTestClient(t, srv.URL))
	if !errors.Is(err, telephony.ErrRateLimited) || errors.Is(err, telephony.ErrOutcomeUnknown) ||
		!errors.Is(err, context.Canceled) || n.Load() != 1 {
		t.Fatalf("got %v after %d requests", err, n.Load())
	}
}

func TestKeyedLimiterRelease(t *testing.T) {
	k := (&Account{keyed: map[string]*KeyedLimiter{}}).Keyed("update", 5*time.Minute, 1)
	release, _, ok, _ := k.Take(t.Context(), "r1", 0)
	if !ok {
		t.Fatal("first token refused")
	}
	release() // the request was refused: give the token back
	if _, _, ok, _ := k.Take(t.Context(), "r1", 0); !ok {
		t.Fatal("released token not available")
	}
	if _, _, ok, _ := k.Take(t.Context(), "r1", 0); ok {
		t.Fatal("a kept token was handed out twice")
	}
}
