package transport

import (
	"context"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
	"go.uber.org/goleak"
)

// R12: 1,000 operations mixing success, 5xx, reset after the body, client
// timeout and cancellation leave no goroutine behind.
func TestR12NoGoroutineLeaks(t *testing.T) {
	testenv.Long(t)
	var i atomic.Int64
	srv, _ := counting(func(w http.ResponseWriter, r *http.Request) {
		switch i.Add(1) % 5 {
		case 0:
			_, _ = w.Write([]byte(`{"ok":true}`))
		case 1:
			http.Error(w, "{}", http.StatusServiceUnavailable)
		case 2:
			resetAfterBody(w, r)
		case 3:
			select { // outlives the client timeout
			case <-time.After(80 * time.Millisecond):
			case <-r.Context().Done():
			}
		case 4:
			select { // outlives the caller's context
			case <-time.After(50 * time.Millisecond):
			case <-r.Context().Done():
			}
		}
	})
	c := newTestClient(t, srv.URL, telephony.WithHTTPClient(&http.Client{Timeout: 40 * time.Millisecond}),
		telephony.WithRateLimit(1e6, 1000))
	before := runtime.NumGoroutine()
	baseline := goleak.IgnoreCurrent() // the goroutines that existed before
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	for n := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
			defer cancel()
			method := http.MethodGet
			if n%2 == 0 {
				method = http.MethodPost
			}
			var out map[string]any
			_, _ = c.Do(ctx, &Request{Method: method, Path: "/v1/calls", Body: map[string]int{"n": n}, Out: &out})
		}()
	}
	wg.Wait()
	c.http.CloseIdleConnections()
	srv.Close()
	// goleak retries until the runtime has let go of closed connections.
	err := goleak.Find(baseline)
	leaked := 0
	if err != nil {
		leaked = runtime.NumGoroutine() - before
	}
	t.Logf("R12 1000 mixed operations: leaked goroutines=%d", leaked)
	assert.NoError(t, err)
}
