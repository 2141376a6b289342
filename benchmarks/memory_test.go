package benchmarks_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

// Memory (issue 7.4): listing 100,000 users keeps the heap flat.

const memUsers, memPerPage = 100_000, 100

// pageServer generates JustCall users pages on the fly (ids 1..total,
// page numbers from 0, next_page_link null on the last page), so that the
// server holds no list and the heap measures the client.
func pageServer(tb testing.TB, total int) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != benchAuth || r.URL.Path != "/v2.1/users" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		first := page*memPerPage + 1
		n := max(0, min(memPerPage, total-first+1))
		next := ""
		if first+n <= total {
			next = fmt.Sprintf("%s/v2.1/users?page=%d&per_page=%d", srv.URL, page+1, memPerPage)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(usersPageJSON(int64(first), n, page, next))
	}))
	tb.Cleanup(srv.Close)
	return srv
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestListUsersHeapFlat iterates 100,000 users with Users.List (1,000 pages
// of 100) and samples the live heap (after a GC) every 1,000 users. It then
// keeps all 100,000 users in a slice to measure what the whole list needs,
// and asserts that the iteration's peak growth is under a tenth of it.
func TestListUsersHeapFlat(t *testing.T) {
	testenv.Long(t)
	if testing.Short() {
		t.Skip("100,000 users: not in -short")
	}
	srv := pageServer(t, memUsers)
	hc := newHTTPClient(2)
	defer closeIdle(hc)
	c, err := justcall.New(benchKey, benchSecret, telephony.WithBaseURL(srv.URL),
		telephony.WithHTTPClient(hc), telephony.WithRateLimit(rate.Inf, 0))
	require.NoError(t, err)
	opts := &justcall.ListUsersOptions{PerPage: memPerPage}

	// Warm up (connection, limiter state) with a one-page listing.
	for _, err := range c.Users.List(t.Context(), &justcall.ListUsersOptions{PerPage: 1}) {
		require.NoError(t, err)
		break
	}
	base := heapAfterGC()
	var peak uint64
	var samples int
	n, last := 0, int64(0)
	for u, err := range c.Users.List(t.Context(), opts) {
		require.NoError(t, err)
		require.Equal(t, last+1, u.ID, "user %d after %d", u.ID, last)
		last = u.ID
		n++
		if n%1000 == 500 { // mid-page: the current page is live
			samples++
			if h := heapAfterGC(); h > base && h-base > peak {
				peak = h - base
			}
		}
	}
	end := heapAfterGC()
	require.Equal(t, memUsers, n, "listed %d users, want %d", n, memUsers)

	// The same listing kept in memory.
	base2 := heapAfterGC()
	all := make([]justcall.User, 0, memUsers)
	for u, err := range c.Users.List(t.Context(), opts) {
		require.NoError(t, err)
		all = append(all, u)
	}
	whole := heapAfterGC() - base2
	runtime.KeepAlive(all)

	t.Logf("memory: iterating %d users (%d pages of %d): peak live-heap growth %.1f KiB over %d samples (after GC), growth at the end %+.1f KiB; the whole list held in a slice needs %.1f MiB; peak/whole = %.4f",
		n, n/memPerPage, memPerPage, float64(peak)/1024, samples, (float64(end)-float64(base))/1024,
		float64(whole)/(1<<20), float64(peak)/float64(whole))
	assert.LessOrEqual(t, peak*10, whole, "peak growth %d bytes is more than a tenth of the whole list's %d bytes: the heap is not flat", peak, whole)
}
