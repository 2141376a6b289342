package transport

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
)

// keyedRun takes passes tokens for each of users keys (5 per minute per
// key, Dialpad's call initiations) and returns how many were granted.
func keyedRun(t *testing.T, users, passes int) int {
	k := (&Account{keyed: map[string]*KeyedLimiter{}}).Keyed("initiate", time.Minute/5, 5)
	granted := 0
	for range passes {
		for u := range users {
			if _, _, ok, _ := k.Take(t.Context(), strconv.Itoa(u), 0); ok {
				granted++
			}
		}
	}
	t.Logf("keyed (memory): %d users x %d passes: %d granted (limit %d), %d buckets held",
		users, passes, granted, users*min(passes, 5), k.local.keys())
	return granted
}

// Every live bucket is kept however many users there are: the limit holds
// exactly (the LRU this replaced forgot live buckets past 10,000 users and
// let twice the limit through).
func TestKeyedExactAtManyUsers(t *testing.T) {
	assert.Equal(t, 20_000*5, keyedRun(t, 20_000, 10))
}

func TestKeyedExactAt100kUsers(t *testing.T) {
	testenv.Long(t)
	assert.Equal(t, 100_000*5, keyedRun(t, 100_000, 10))
}

// A bucket full again is dropped (it equals a fresh one), so memory follows
// the live keys, not every key ever seen.
func TestKeyedForgetsOnlyFullBuckets(t *testing.T) {
	g := newGCRA(time.Minute/5, 5)
	t0 := time.Unix(1_700_000_000, 0)
	for u := range 5000 {
		g.take("old-"+strconv.Itoa(u), t0)
	}
	assert.Equal(t, 5000, g.keys(), "live buckets are all kept")
	later := t0.Add(2 * time.Minute) // every old bucket is full again
	for u := range 5000 {
		g.take("new-"+strconv.Itoa(u), later)
	}
	t.Logf("keyed (memory): 5,000 full buckets and 5,000 live ones: %d held", g.keys())
	assert.Less(t, g.keys(), 10_000, "full buckets were dropped")
	assert.GreaterOrEqual(t, g.keys(), 5000, "live buckets kept")
	assert.Zero(t, g.take("new-1", later.Add(time.Millisecond)), "a live bucket still has tokens (burst 5)")
}

// A request the smooth limiter refuses gives back the slot it took from a
// counted window: the provider's window must not drain with nothing sent.
func TestRefusedRequestGivesItsWindowSlotBack(t *testing.T) {
	srv, n := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Limit", "30")
		w.Header().Set("X-Remaining", "29")
		w.Header().Set("X-Reset", "60")
		_, _ = w.Write([]byte(`{}`))
	})
	defer srv.Close()
	c := newTestClientCfg(t, srv.URL, func(cfg *Config) {
		cfg.Windows = []Window{{Limit: 30, Period: time.Minute}}
		cfg.RateHeaders = []HeaderWindow{{Limit: "X-Limit", Remaining: "X-Remaining", Reset: "X-Reset", Window: 0}}
	}, telephony.WithRateLimit(1, 1), telephony.WithMaxRetryWait(10*time.Millisecond))
	_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x", AllowEmpty: true})
	require.NoError(t, err)
	for range 3 {
		_, err := c.Do(t.Context(), &Request{Method: http.MethodGet, Path: "/x", AllowEmpty: true})
		require.ErrorIs(t, err, telephony.ErrRateLimited, "refused by the 1/s limiter")
	}
	a := c.Account()
	a.mu.Lock()
	remaining := a.windows[0].remaining
	a.mu.Unlock()
	assert.Equal(t, int64(1), n.Load(), "one request sent")
	assert.Equal(t, 29, remaining, "the refused requests took nothing from the window")
}
