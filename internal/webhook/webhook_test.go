package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("chunked=%v: got %v", chunked, err)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("ok"))
	if b, err := ReadBody(httptest.NewRecorder(), r, 10); err != nil || string(b) != "ok" {
		t.Fatal(b, err)
	}
}

func TestEqualSecret(t *testing.T) {
	if !EqualSecret("tok", "tok") || EqualSecret("tok", "tok2") || EqualSecret("", "") || EqualSecret("x", "") {
		t.Fatal("EqualSecret wrong")
	}
}

func TestDedupe(t *testing.T) {
	d := NewDedupe(time.Hour, 3)
	now := time.Unix(0, 0)
	d.now = func() time.Time { return now }
	if !d.First("a") || d.First("a") {
		t.Fatal("duplicate not detected")
	}
	d.First("b")
	d.First("c")
	d.First("d") // evicts a: the store is bounded
	if d.Len() > 3 || !d.First("a") {
		t.Fatalf("bound not kept: len=%d", d.Len())
	}
	now = now.Add(2 * time.Hour)
	if !d.First("d") {
		t.Fatal("expired key still remembered")
	}
	d.Forget("d")
	if !d.First("d") {
		t.Fatal("Forget had no effect")
	}
}

// R20 in miniature: five concurrent deliveries of one key, one side effect.
func TestDedupeConcurrent(t *testing.T) {
	d := NewDedupe(0, 0)
	var effects atomic.Int64
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d.First("req-1") {
				effects.Add(1)
			}
		}()
	}
	wg.Wait()
	if effects.Load() != 1 {
		t.Fatalf("side effects=%d", effects.Load())
	}
}

func TestRunnerBoundsAndClose(t *testing.T) {
	r := NewRunner(2, 0)
	release := make(chan struct{})
	var ran atomic.Int64
	job := func(ctx context.Context) { <-release; ran.Add(1) }
	first, second := r.TryGo(job), r.TryGo(job)
	if !first || !second {
		t.Fatal("runner refused work below its limit")
	}
	if r.TryGo(job) {
		t.Fatal("runner accepted work over its limit")
	}
	close(release)
	if err := r.Close(t.Context()); err != nil || ran.Load() != 2 {
		t.Fatalf("close: %v ran=%d", err, ran.Load())
	}
	if r.TryGo(job) {
		t.Fatal("closed runner accepted work")
	}
}

func TestRunnerCloseCancelsLateJobs(t *testing.T) {
	r := NewRunner(1, 0)
	r.TryGo(func(ctx context.Context) { <-ctx.Done() })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := r.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	r.Wait()
}

// A job that ignores its context cannot hold Close past its deadline.
func TestRunnerCloseDoesNotWaitForStubbornJobs(t *testing.T) {
	r := NewRunner(1, 0)
	release := make(chan struct{})
	r.TryGo(func(context.Context) { <-release })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := r.Close(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("Close returned %v after %v", err, time.Since(start))
	}
	close(release)
	r.Wait()
}

func TestRunnerSurvivesPanic(t *testing.T) {
	r := NewRunner(1, 0)
	r.TryGo(func(context.Context) { panic("boom") })
	r.Wait()
	if !r.TryGo(func(context.Context) {}) {
		t.Fatal("slot not released after a panic")
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
