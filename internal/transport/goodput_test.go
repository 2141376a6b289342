package transport

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/testenv"
)

// windowServer allows n requests per wall-clock second and answers 429
// beyond it, with rate-limit headers (reset = the next second, in epoch
// seconds) and Retry-After, like the providers' fixed windows.
type windowServer struct {
	*httptest.Server
	mu                sync.Mutex
	window            int64
	used              int
	served, throttled atomic.Int64
}

func newWindowServer(n int) *windowServer {
	ws := &windowServer{}
	ws.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		ws.mu.Lock()
		if s := now.Unix(); s != ws.window {
			ws.window, ws.used = s, 0
		}
		ws.used++
		over, remaining := ws.used > n, max(n-ws.used, 0)
		ws.mu.Unlock()
		w.Header().Set("X-Limit", strconv.Itoa(n))
		w.Header().Set("X-Remaining", strconv.Itoa(remaining))
		w.Header().Set("X-Reset", strconv.FormatInt(now.Unix()+1, 10))
		if over {
			ws.throttled.Add(1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"message":"rate limited"}`, http.StatusTooManyRequests)
			return
		}
		ws.served.Add(1)
		_, _ = w.Write([]byte(`{"users":[]}`))
	}))
	return ws
}

// Issue 7.3: rate-limit goodput. M requests from many goroutines against a
// provider allowing N per one-second window. The ideal completion time is
// M/N windows; we report ideal/actual and the share of requests answered
// 429, for Switchboard's transport and for a bare go-retryablehttp client.
func TestGoodputUnderRateLimit(t *testing.T) {
	testenv.Long(t)
	if testing.Short() {
		t.Skip("takes about 10 s")
	}
	const n, m, workers = 20, 100, 25
	ideal := time.Duration(m/n) * time.Second
	measure := func(name string, ws *windowServer, do func() error) (ratio, share float64) {
		var failed atomic.Int64
		jobs := make(chan struct{}, m)
		for range m {
			jobs <- struct{}{}
		}
		close(jobs)
		start := time.Now()
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					if do() != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		took := time.Since(start)
		total := ws.served.Load() + ws.throttled.Load()
		share = float64(ws.throttled.Load()) / float64(total)
		ratio = ideal.Seconds() / took.Seconds()
		t.Logf("goodput %-21s M=%d N=%d/s: took %v (ideal %v) ideal/actual=%.2f; 429s=%d of %d requests (%.1f%%); failed=%d",
			name, m, n, took.Round(10*time.Millisecond), ideal, ratio, ws.throttled.Load(), total, 100*share, failed.Load())
		return ratio, share
	}

	sb := newWindowServer(n)
	defer sb.Close()
	c := newTestClientCfg(t, sb.URL, func(cfg *Config) {
		cfg.Windows = []Window{{Limit: n, Period: time.Second}}
		cfg.RateHeaders = []HeaderWindow{{Limit: "X-Limit", Remaining: "X-Remaining", Reset: "X-Reset", Window: 0}}
	})
	ratio, share := measure("switchboard", sb, func() error {
		_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/v1/users"})
		return err
	})
	// Generous bounds: the figure is the report, this only catches a
	// collapse.
	assert.LessOrEqual(t, share, 0.05, "switchboard goodput collapsed: ideal/actual %.2f, 429 share %.3f", ratio, share)
	assert.GreaterOrEqual(t, ratio, 0.5, "switchboard goodput collapsed: ideal/actual %.2f, 429 share %.3f", ratio, share)

	bare := newWindowServer(n)
	defer bare.Close()
	rc := retryablehttp.NewClient()
	rc.Logger = nil
	defer rc.HTTPClient.CloseIdleConnections()
	measure("bare go-retryablehttp", bare, func() error {
		resp, err := rc.Get(bare.URL + "/v1/users")
		if err != nil {
			return err
		}
		return resp.Body.Close()
	})
}

// A provider whose window is shorter than the documented one (one second
// instead of a minute here): the client follows the provider's resets and
// learns the real window length instead of waiting out its own minute.
func TestFollowsProviderWindowLength(t *testing.T) {
	testenv.Long(t)
	const n, m = 5, 20
	ws := newWindowServer(n)
	defer ws.Close()
	c := newTestClientCfg(t, ws.URL, func(cfg *Config) {
		cfg.Windows = []Window{{Limit: n, Period: time.Minute}}
		cfg.RateHeaders = []HeaderWindow{{Limit: "X-Limit", Remaining: "X-Remaining", Reset: "X-Reset", Window: 0}}
	})
	start := time.Now()
	for range m {
		_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/v1/users"})
		require.NoError(t, err)
	}
	took := time.Since(start)
	t.Logf("provider window 1s, documented 1min: %d sequential requests at %d/window took %v with %d 429s", m, n, took.Round(10*time.Millisecond), ws.throttled.Load())
	// A request sent just before a window ends may land in the next one,
	// so allow a stray 429. Without following the resets the client would
	// wait out its own minute and fail.
	assert.LessOrEqual(t, took, time.Duration(m/n+1)*time.Second+time.Second, "took %v with %d 429s", took, ws.throttled.Load())
	assert.LessOrEqual(t, ws.throttled.Load(), int64(2), "took %v with %d 429s", took, ws.throttled.Load())
}
