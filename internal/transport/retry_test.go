package transport

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
)

// R1: a call-placing POST is resent only when the provider provably did
// nothing with it.
func TestR1CallPlacingPOST(t *testing.T) {
	t.Run("reset after body", func(t *testing.T) {
		srv, n := counting(resetAfterBody)
		defer srv.Close()
		err := post(t.Context(), newTestClient(t, srv.URL))
		t.Logf("R1 reset-after-body: requests seen=%d err=%v", n.Load(), err)
		assert.Equal(t, int64(1), n.Load(), "want 1 request and ErrOutcomeUnknown, got %d, %v", n.Load(), err)
		assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown, "want 1 request and ErrOutcomeUnknown, got %d, %v", n.Load(), err)
	})
	t.Run("503 x5", func(t *testing.T) {
		srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"message":"down"}`, http.StatusServiceUnavailable)
		})
		defer srv.Close()
		err := post(t.Context(), newTestClient(t, srv.URL))
		t.Logf("R1 503x5: requests seen=%d", n.Load())
		var te *telephony.Error
		assert.Equal(t, int64(1), n.Load(), "want 1 request, ErrOutcomeUnknown with status 503, got %d, %v", n.Load(), err)
		assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown, "want 1 request, ErrOutcomeUnknown with status 503, got %d, %v", n.Load(), err)
		require.ErrorAs(t, err, &te, "want 1 request, ErrOutcomeUnknown with status 503, got %d, %v", n.Load(), err)
		assert.Equal(t, 503, te.StatusCode, "want 1 request, ErrOutcomeUnknown with status 503, got %d, %v", n.Load(), err)
	})
	t.Run("client timeout", func(t *testing.T) {
		srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(150 * time.Millisecond):
			case <-r.Context().Done():
			}
		})
		defer srv.Close()
		c := newTestClient(t, srv.URL, telephony.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
		err := post(t.Context(), c)
		t.Logf("R1 client-timeout: requests seen=%d err=%v", n.Load(), err)
		assert.Equal(t, int64(1), n.Load(), "want 1 request and ErrOutcomeUnknown, got %d, %v", n.Load(), err)
		assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown, "want 1 request and ErrOutcomeUnknown, got %d, %v", n.Load(), err)
	})
	t.Run("429,429,200", func(t *testing.T) {
		var i atomic.Int64
		srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
			if i.Add(1) <= 2 {
				w.Header().Set("Retry-After", "0")
				http.Error(w, `{"message":"slow down"}`, http.StatusTooManyRequests)
				return
			}
			_, _ = w.Write([]byte(`{"ok":true}`))
		})
		defer srv.Close()
		err := post(t.Context(), newTestClient(t, srv.URL))
		t.Logf("R1 429,429,200: requests seen=%d err=%v", n.Load(), err)
		assert.Equal(t, int64(3), n.Load(), "want 3 requests and success, got %d, %v", n.Load(), err)
		assert.NoError(t, err, "want 3 requests and success, got %d, %v", n.Load(), err)
	})
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		l.Close()
		err = post(t.Context(), newTestClient(t, "http://"+addr))
		var te *telephony.Error
		require.ErrorAs(t, err, &te, "want *telephony.Error, got %v", err)
		t.Logf("R1 connection-refused: requests seen=0 attempts=%d err=%v", te.Attempts, err)
		assert.Equal(t, telephony.DefaultMaxAttempts, te.Attempts, "want %d attempts and ErrUnavailable saying nothing reached the provider, got %v", telephony.DefaultMaxAttempts, err)
		assert.ErrorIs(t, err, telephony.ErrUnavailable, "want %d attempts and ErrUnavailable saying nothing reached the provider, got %v", telephony.DefaultMaxAttempts, err)
		assert.ErrorContains(t, err, "no request reached the provider", "want %d attempts and ErrUnavailable saying nothing reached the provider, got %v", telephony.DefaultMaxAttempts, err)
	})
}

// R2: net/http replays a POST carrying an Idempotency-Key on a reused
// connection; we never send one, so the provider sees one request.
func TestR2NoReplayOnReusedConnection(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(`{}`))
			return
		}
		posts.Add(1)
		// The server's goroutine: assert, never require.
		assert.Empty(t, r.Header.Get("Idempotency-Key"), "an idempotency key was sent")
		assert.Empty(t, r.Header.Get("X-Idempotency-Key"), "an idempotency key was sent")
		resetAfterBody(w, r)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/warm"})
	require.NoError(t, err)
	err = post(t.Context(), c)
	t.Logf("R2 keep-alive close after request read: executions=%d err=%v", posts.Load(), err)
	assert.Equal(t, int64(1), posts.Load(), "want 1 execution and ErrOutcomeUnknown, got %d, %v", posts.Load(), err)
	assert.ErrorIs(t, err, telephony.ErrOutcomeUnknown, "want 1 execution and ErrOutcomeUnknown, got %d, %v", posts.Load(), err)
}

// R4 and R10: a read that keeps failing is tried MaxAttempts times and ends
// in a typed error that keeps the status.
func TestR4R10IdempotentRetries(t *testing.T) {
	srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-77")
		http.Error(w, `{"error":"busy","troubleshoot":"try later"}`, http.StatusServiceUnavailable)
	})
	defer srv.Close()
	_, err := newTestClient(t, srv.URL).Do(t.Context(), &Request{Method: http.MethodGet, Path: "/v1/users"})
	var te *telephony.Error
	require.ErrorAs(t, err, &te, "errors.As failed on %v", err)
	t.Logf("R4/R10 503x3: attempts=%d requests=%d status=%d errors.As=true msg=%q", te.Attempts, n.Load(), te.StatusCode, err)
	assert.Equal(t, 3, te.Attempts, "unexpected error %+v", te)
	assert.Equal(t, int64(3), n.Load(), "unexpected error %+v", te)
	assert.Equal(t, 503, te.StatusCode, "unexpected error %+v", te)
	assert.Equal(t, "req-77", te.RequestID, "unexpected error %+v", te)
	assert.ErrorIs(t, err, telephony.ErrUnavailable, "unexpected error %+v", te)
	assert.Equal(t, "busy — try later", te.Message, "unexpected error %+v", te)
	assert.NotContains(t, err.Error(), "giving up", "retryablehttp's message leaked: %v", err)
}

func TestR4BackoffBounds(t *testing.T) {
	base, cap := 500*time.Millisecond, 20*time.Second
	for n := 0; n < 12; n++ {
		ceiling := min(cap, base<<n)
		lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
		for range 2000 {
			d := Backoff(base, cap, n)
			lo, hi = min(lo, d), max(hi, d)
		}
		// Every draw lies in [0, ceiling] exactly when the extremes do.
		require.GreaterOrEqual(t, lo, time.Duration(0), "Backoff(n=%d)=%v outside [0,%v]", n, lo, ceiling)
		require.LessOrEqual(t, hi, ceiling, "Backoff(n=%d)=%v outside [0,%v]", n, hi, ceiling)
		if n < 4 {
			t.Logf("R4 backoff n=%d: max of 2000 draws %v within [0, %v]", n, hi.Round(time.Millisecond), ceiling)
		}
	}
}

// R6: a server-requested wait longer than the context fails at once.
func TestR6WaitsRespectContext(t *testing.T) {
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "{}", http.StatusTooManyRequests)
	})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newTestClient(t, srv.URL).Do(ctx, &Request{Method: http.MethodGet, Path: "/v1/users"})
	elapsed := time.Since(start)
	t.Logf("R6 Retry-After 10 with a 200ms context: elapsed=%v errors.Is(DeadlineExceeded)=%v errors.Is(ErrRateLimited)=%v",
		elapsed.Round(time.Millisecond), errors.Is(err, context.DeadlineExceeded), errors.Is(err, telephony.ErrRateLimited))
	assert.LessOrEqual(t, elapsed, 250*time.Millisecond, "want a fast failure matching DeadlineExceeded and ErrRateLimited, got %v after %v", err, elapsed)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "want a fast failure matching DeadlineExceeded and ErrRateLimited, got %v after %v", err, elapsed)
	assert.ErrorIs(t, err, telephony.ErrRateLimited, "want a fast failure matching DeadlineExceeded and ErrRateLimited, got %v after %v", err, elapsed)

	// The steady limiter's "would exceed context deadline" is typed too.
	srv2, _ := counting(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) })
	defer srv2.Close()
	c := newTestClient(t, srv2.URL, telephony.WithRateLimit(1, 1))
	_, err = c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/a"})
	require.NoError(t, err)
	ctx2, cancel2 := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel2()
	_, err = c.Do(ctx2, &Request{Method: http.MethodGet, Path: "/a"})
	t.Logf("R6 limiter wait past deadline: errors.Is(DeadlineExceeded)=%v err=%v", errors.Is(err, context.DeadlineExceeded), err)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "limiter error not typed: %v", err)
	assert.ErrorIs(t, err, telephony.ErrRateLimited, "limiter error not typed: %v", err)
}

// R7: the retry budget bounds the load a failing provider receives.
func TestR7RetryBudget(t *testing.T) {
	srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "{}", http.StatusServiceUnavailable)
	})
	defer srv.Close()
	c := newTestClient(t, srv.URL, telephony.WithRetryBackoff(time.Microsecond, time.Microsecond), telephony.WithRateLimit(1e9, 1000))
	for range 1000 {
		_, _ = c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/v1/users"})
	}
	total := n.Load()
	before := n.Load()
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/v1/users"})
	next := n.Load() - before
	t.Logf("R7 1000 logical calls to an always-503 server: attempts=%d (no budget: 3000); next call attempts=%d", total, next)
	assert.LessOrEqual(t, total, int64(1100), "budget not enforced: total=%d next=%d err=%v", total, next, err)
	assert.Equal(t, int64(1), next, "budget not enforced: total=%d next=%d err=%v", total, next, err)
	assert.ErrorContains(t, err, "retry budget", "budget not enforced: total=%d next=%d err=%v", total, next, err)
}

// R9: a 429 closes the account's gate for every caller, and no wait can
// block forever.
func TestR9GateAndNoEndlessWait(t *testing.T) {
	testenv.Long(t)
	var first atomic.Int64 // unix nanos of the 429
	var inWindow atomic.Int64
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		if first.CompareAndSwap(0, now) {
			w.Header().Set("Retry-After", "2")
			http.Error(w, "{}", http.StatusTooManyRequests)
			return
		}
		if now < first.Load()+int64(2*time.Second) {
			inWindow.Add(1)
		}
		_, _ = w.Write([]byte(`{}`))
	})
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	errs := make(chan error, 20)
	go func() { _, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"}); errs <- err }()
	for first.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the 429 has been read: the gate is closed
	for range 19 {
		go func() { _, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"}); errs <- err }()
	}
	for range 20 {
		require.NoError(t, <-errs)
	}
	t.Logf("R9 20-goroutine storm with Retry-After 2: requests seen in [t429, t429+2s)=%d", inWindow.Load())
	assert.Equal(t, int64(0), inWindow.Load(), "gate let %d requests through", inWindow.Load())

	// A limit of zero is refused up front instead of blocking forever, and
	// a gate longer than the maximum wait fails at once without a deadline.
	_, err := telephony.NewSettings(telephony.WithRateLimit(0, 1))
	assert.Error(t, err, "WithRateLimit(0) accepted")
	srv2, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "{}", http.StatusTooManyRequests)
	})
	defer srv2.Close()
	c2 := newTestClient(t, srv2.URL)
	_, err = c2.Do(context.Background(), &Request{Method: http.MethodGet, Path: "/x"})
	var te *telephony.Error
	require.ErrorAs(t, err, &te, "want RetryAfter 1h, got %v", err)
	assert.Equal(t, time.Hour, te.RetryAfter, "want RetryAfter 1h, got %v", err)
	c2.Account().Block(t.Context(), time.Hour)
	start := time.Now()
	_, err = c2.Do(context.Background(), &Request{Method: http.MethodGet, Path: "/x"})
	t.Logf("R9 closed gate (1h) with a context without deadline: returned in %v: %v", time.Since(start).Round(time.Microsecond), err)
	assert.LessOrEqual(t, time.Since(start), 100*time.Millisecond, "want a fast ErrRateLimited, got %v", err)
	assert.ErrorIs(t, err, telephony.ErrRateLimited, "want a fast ErrRateLimited, got %v", err)
}
