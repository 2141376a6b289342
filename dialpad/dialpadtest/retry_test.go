package dialpadtest_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
)

// The simulator retries a call event as Dialpad documents: a 5xx three
// more times, after about 2, 4 and 8 s (here on a clock shortened 100
// times); a 4xx never.
func TestEventRetrySchedule(t *testing.T) {
	for _, tc := range []struct {
		status   int
		attempts int
	}{{http.StatusServiceUnavailable, 4}, {http.StatusBadRequest, 1}} {
		sim := dialpadtest.NewServer()
		sim.SetEventRetryDelay(20 * time.Millisecond)
		var mu sync.Mutex
		var at []time.Time
		var hangups atomic.Int64
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
			hangups.Add(1)
			w.WriteHeader(tc.status)
		}))
		sim.AddWebhook(hook.URL, "")
		u := sim.SeedUsers(1)[0]
		c := sim.AddCall(dialpadtest.Call{UserID: u.ID, Direction: "outbound", PhoneNumber: "+14155550199"})
		before := hangups.Load()
		require.NoError(t, sim.SetCallState(c.ID, "hangup"))
		sim.FlushEvents()
		var last dialpadtest.Delivery
		for _, d := range sim.Deliveries() {
			if d.State == "hangup" {
				last = d
			}
		}
		mu.Lock()
		times := append([]time.Time(nil), at...)
		mu.Unlock()
		t.Logf("status %d: hangup delivered %d times (%d requests in all)", tc.status, last.Attempts, hangups.Load()-before)
		assert.Equal(t, tc.attempts, last.Attempts, "status %d", tc.status)
		assert.Equal(t, tc.status, last.Status)
		if tc.attempts == 4 && assert.GreaterOrEqual(t, len(times), 4) {
			gaps := times[len(times)-4:]
			for i, want := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond} {
				assert.GreaterOrEqual(t, gaps[i+1].Sub(gaps[i]), want, "retry %d waits at least %v", i+1, want)
			}
		}
		hook.Close()
		sim.Close()
	}
}
