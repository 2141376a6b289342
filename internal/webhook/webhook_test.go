package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestReadBodyLimit(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		body := strings.NewReader(strings.Repeat("x", 1<<20))
		r := httptest.NewRequest(http.MethodPost, "/", body)
		if chunked {
			r.ContentLength = -1
		}
		_, err := ReadBody(httptest.NewRecorder(), r, MaxRoutingBody)
		assert.ErrorIs(t, err, ErrTooLarge, "chunked=%v: got %v", chunked, err)
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("ok"))
	b, err := ReadBody(httptest.NewRecorder(), r, 10)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(b))
}

func TestEqualSecret(t *testing.T) {
	assert.True(t, EqualSecret("tok", "tok"), "EqualSecret wrong: tok, tok")
	assert.False(t, EqualSecret("tok", "tok2"), "EqualSecret wrong: tok, tok2")
	assert.False(t, EqualSecret("", ""), "EqualSecret wrong: empty secrets")
	assert.False(t, EqualSecret("x", ""), "EqualSecret wrong: x, empty")
}

func TestRunnerBoundsAndClose(t *testing.T) {
	r := NewRunner(2, 0)
	release := make(chan struct{})
	var ran atomic.Int64
	job := func(ctx context.Context) { <-release; ran.Add(1) }
	first, second := r.TryGo(context.Background(), job), r.TryGo(context.Background(), job)
	require.True(t, first, "runner refused work below its limit")
	require.True(t, second, "runner refused work below its limit")
	assert.False(t, r.TryGo(context.Background(), job), "runner accepted work over its limit")
	close(release)
	err := r.Close(t.Context())
	require.NoError(t, err, "close: %v ran=%d", err, ran.Load())
	assert.Equal(t, int64(2), ran.Load(), "close: %v ran=%d", err, ran.Load())
	assert.False(t, r.TryGo(context.Background(), job), "closed runner accepted work")
}

func TestRunnerCloseCancelsLateJobs(t *testing.T) {
	r := NewRunner(1, 0)
	r.TryGo(context.Background(), func(ctx context.Context) { <-ctx.Done() })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, r.Close(ctx), context.DeadlineExceeded)
	r.Wait()
}

// A job that ignores its context cannot hold Close past its deadline.
func TestRunnerCloseDoesNotWaitForStubbornJobs(t *testing.T) {
	r := NewRunner(1, 0)
	release := make(chan struct{})
	r.TryGo(context.Background(), func(context.Context) { <-release })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := r.Close(ctx)
	assert.LessOrEqual(t, time.Since(start), time.Second, "Close returned %v after %v", err, time.Since(start))
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Close returned %v after %v", err, time.Since(start))
	close(release)
	r.Wait()
}

func TestRunnerSurvivesPanic(t *testing.T) {
	r := NewRunner(1, 0)
	r.TryGo(context.Background(), func(context.Context) { panic("boom") })
	r.Wait()
	assert.True(t, r.TryGo(context.Background(), func(context.Context) {}), "slot not released after a panic")
	assert.NoError(t, r.Close(t.Context()))
}
