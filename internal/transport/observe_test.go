package transport

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/telephony"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A failed attempt logs its error as an attribute: slog used to print
// !BADKEY="error=EOF" because a bare string stood where a key belongs.
func TestAttemptLogHasNoBadKey(t *testing.T) {
	srv, _ := counting(resetAfterBody)
	defer srv.Close()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newTestClient(t, srv.URL, telephony.WithLogger(log))
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x"})
	require.Error(t, err)
	out := logs.String()
	assert.Contains(t, out, "attempt failed")
	assert.NotContains(t, out, "!BADKEY", "logs: %s", out)
	assert.Regexp(t, `msg="attempt failed".* error=`, out)
}

// WithResponseMeta fills the caller's struct with what the answer said,
// without changing any signature.
func TestResponseMeta(t *testing.T) {
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-42")
		w.Header().Set("X-Limit", "30")
		w.Header().Set("X-Remaining", "17")
		w.Header().Set("X-Reset", "60")
		_, _ = w.Write([]byte(`{}`))
	})
	defer srv.Close()
	c := newTestClientCfg(t, srv.URL, func(cfg *Config) {
		cfg.Windows = []Window{{Limit: 30, Period: time.Minute}}
		cfg.RateHeaders = []HeaderWindow{{Limit: "X-Limit", Remaining: "X-Remaining", Reset: "X-Reset", Window: 0}}
	})
	var meta telephony.ResponseMeta
	var out struct{}
	_, err := c.Do(telephony.WithResponseMeta(t.Context(), &meta), &Request{Method: http.MethodGet, Path: "/x", Out: &out})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, meta.StatusCode)
	assert.Equal(t, "req-42", meta.RequestID)
	assert.Equal(t, 1, meta.Attempts)
	assert.True(t, meta.RateLimit.Known)
	assert.Equal(t, 30, meta.RateLimit.Limit)
	assert.Equal(t, 17, meta.RateLimit.Remaining)
	assert.WithinDuration(t, time.Now().Add(time.Minute), meta.RateLimit.Reset, 2*time.Second)
}

// recordingObserver is our own seam's test double (not a dependency's).
type recordingObserver struct {
	mu       sync.Mutex
	ops      []telephony.OperationResult
	attempts []telephony.AttemptResult
	started  []int
}

func (o *recordingObserver) StartOperation(ctx context.Context, op telephony.Operation) (context.Context, func(telephony.OperationResult)) {
	return ctx, func(r telephony.OperationResult) { o.mu.Lock(); o.ops = append(o.ops, r); o.mu.Unlock() }
}

func (o *recordingObserver) StartAttempt(ctx context.Context, op telephony.Operation, n int) (context.Context, func(telephony.AttemptResult)) {
	o.mu.Lock()
	o.started = append(o.started, n)
	o.mu.Unlock()
	return ctx, func(r telephony.AttemptResult) { o.mu.Lock(); o.attempts = append(o.attempts, r); o.mu.Unlock() }
}

func (o *recordingObserver) Delivery(context.Context, telephony.Delivery) {}

// Retries show as attempts of one operation; the time spent between them
// and in the limiter is reported apart.
func TestObserverSeesAttemptsAndWaits(t *testing.T) {
	var calls int
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	})
	defer srv.Close()
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, telephony.WithObserver(obs))
	var out struct{}
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x", Out: &out})
	require.NoError(t, err)
	require.Len(t, obs.ops, 1, "one operation")
	assert.Equal(t, []int{1, 2, 3}, obs.started, "attempts started")
	require.Len(t, obs.attempts, 3, "attempts ended")
	assert.Equal(t, []int{503, 503, 200}, []int{obs.attempts[0].StatusCode, obs.attempts[1].StatusCode, obs.attempts[2].StatusCode})
	assert.Equal(t, 3, obs.ops[0].Attempts)
	assert.Equal(t, http.StatusOK, obs.ops[0].StatusCode)
	assert.Positive(t, obs.ops[0].RetryWait+obs.ops[0].LimiterWait, "waits measured")
	assert.NoError(t, obs.ops[0].Err)
}
