package aircall_test

import (
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
)

func listingClient(t *testing.T, baseURL string) *aircall.Client {
	t.Helper()
	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(baseURL),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond), telephony.WithRateLimit(rate.Inf, 1))
	require.NoError(t, err)
	return c
}

// endlessUsers is a server that never stops offering pages: per_page users
// a page, fresh ids, and always a next link. per overrides the page size
// it sends (a hostile server ignoring per_page) when positive.
func endlessUsers(t *testing.T, per int) (*httptest.Server, *atomic.Int64) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		n := per
		if n <= 0 {
			n, _ = strconv.Atoi(r.URL.Query().Get("per_page"))
		}
		users := make([]map[string]any, n)
		for i := range users {
			id := (page-1)*n + i + 1
			users[i] = map[string]any{"id": id, "email": fmt.Sprintf("u%d@example.com", id)}
		}
		next := fmt.Sprintf("http://%s/v1/users?page=%d&per_page=%d", r.Host, page+1, n)
		_ = json.NewEncoder(w).Encode(map[string]any{"users": users,
			"meta": map[string]any{"count": n, "total": 1_000_000, "current_page": page, "per_page": n, "next_page_link": next}})
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// A server that keeps offering pages cannot make a listing stream past
// Aircall's cap: it ends after 10,000 users with a clear error.
func TestUsersListEndsAtCapWhenServerKeepsGoing(t *testing.T) {
	srv, requests := endlessUsers(t, 0)
	c := listingClient(t, srv.URL)
	n := 0
	var last error
	for _, err := range c.Users.List(t.Context(), nil) {
		if err != nil {
			last = err
			break
		}
		if n++; n > 3*aircall.MaxListRecords {
			break // the old behaviour: an endless stream
		}
	}
	t.Logf("endless server: listed %d users in %d requests, then err=%v", n, requests.Load(), last)
	assert.Equal(t, aircall.MaxListRecords, n)
	require.Error(t, last)
	assert.ErrorIs(t, last, telephony.ErrUnsupported)
	assert.Contains(t, last.Error(), "cap")
	assert.EqualValues(t, aircall.MaxListRecords/aircall.MaxPerPage, requests.Load())
}

// One answer holding more than the cap allows is cut at the cap, with an
// error matching ErrBadResponse.
func TestUsersListAnswerPastCap(t *testing.T) {
	srv, _ := endlessUsers(t, aircall.MaxListRecords+70)
	c := listingClient(t, srv.URL)
	n := 0
	var last error
	for _, err := range c.Users.List(t.Context(), nil) {
		if err != nil {
			last = err
			break
		}
		if n++; n > 3*aircall.MaxListRecords {
			break // the old behaviour: an endless stream
		}
	}
	assert.Equal(t, aircall.MaxListRecords, n)
	assert.ErrorIs(t, last, telephony.ErrBadResponse)
}

// The directory reaches agents past Aircall's 10,000-record cap: it splits
// the listing by creation time.
func TestDirectoryBeyondListingCap(t *testing.T) {
	const agents = aircall.MaxListRecords + 2_500
	sim := aircalltest.NewServer()
	t.Cleanup(sim.Close)
	sim.SeedUsers(agents)
	c := listingClient(t, sim.URL())
	for _, i := range []int{agents, 1, aircall.MaxListRecords, aircall.MaxListRecords + 1} {
		email := fmt.Sprintf("agent%d@example.com", i)
		u, err := c.Users.FindByEmail(t.Context(), email)
		require.NoError(t, err, email)
		assert.Equal(t, email, u.Email)
	}
	t.Logf("directory of %d agents: %d listing requests", agents, sim.Count(http.MethodGet, "/v1/users"))
	// One load: 250 pages, then 51 from the last creation second on.
	assert.LessOrEqual(t, sim.Count(http.MethodGet, "/v1/users"), agents/aircall.MaxPerPage+2)
}

// TestDirectory50000Agents is the figure: agent #50,000 of 50,000
// is found.
func TestDirectory50000Agents(t *testing.T) {
	testenv.Long(t)
	const agents = 50_000
	sim := aircalltest.NewServer()
	t.Cleanup(sim.Close)
	sim.SeedUsers(agents)
	c := listingClient(t, sim.URL())
	start := time.Now()
	u, err := c.Users.FindByEmail(t.Context(), "agent50000@example.com")
	require.NoError(t, err)
	t.Logf("directory of %d agents: agent #%d found after %d listing requests in %v", agents, agents,
		sim.Count(http.MethodGet, "/v1/users"), time.Since(start).Round(time.Millisecond))
	assert.Equal(t, "agent50000@example.com", u.Email)
}

// More users created in one second than a listing serves cannot be split
// by creation time: the directory says so instead of missing agents.
func TestDirectoryCannotSplitOneSecond(t *testing.T) {
	sim := aircalltest.NewServer()
	t.Cleanup(sim.Close)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= aircall.MaxListRecords+1; i++ {
		sim.AddUser(aircalltest.User{Name: "A", Email: fmt.Sprintf("same%d@example.com", i), CreatedAt: at})
	}
	c := listingClient(t, sim.URL())
	_, err := c.Users.FindByEmail(t.Context(), fmt.Sprintf("same%d@example.com", aircall.MaxListRecords+1))
	require.Error(t, err)
	assert.ErrorIs(t, err, telephony.ErrUnsupported)
	assert.Contains(t, err.Error(), "same second")
}

// Users.Get refuses an answer about another user, or an empty one.
func TestUsersGetRejectsForeignAnswer(t *testing.T) {
	for name, body := range map[string]string{"another user": `{"user":{"id":8}}`, "empty": ``, "no user": `{}`} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
			t.Cleanup(srv.Close)
			u, err := listingClient(t, srv.URL).Users.Get(t.Context(), 7)
			require.Error(t, err)
			assert.Nil(t, u)
			assert.ErrorIs(t, err, telephony.ErrBadResponse)
		})
	}
}

// endlessListing is endlessUsers for any listing: records under key, each
// an object with an "id" (webhooks: a "webhook_id") and a next link always.
func endlessListing(t *testing.T, key string) (*httptest.Server, *atomic.Int64) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		n, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		n = max(n, 1)
		items := make([]map[string]any, n)
		for i := range items {
			id := (page-1)*n + i + 1
			items[i] = map[string]any{"id": id, "webhook_id": strconv.Itoa(id)}
		}
		next := fmt.Sprintf("http://%s%s?page=%d&per_page=%d", r.Host, r.URL.Path, page+1, n)
		_ = json.NewEncoder(w).Encode(map[string]any{key: items,
			"meta": map[string]any{"count": n, "total": 1_000_000, "current_page": page, "per_page": n, "next_page_link": next}})
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// countListing counts a listing's records up to its first error (or three
// times the cap: the old, endless behaviour).
func countListing[T any](seq iter.Seq2[T, error]) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		if n++; n > 3*aircall.MaxListRecords {
			break
		}
	}
	return n, nil
}

// Every listing built on the shared paged-listing helper stops at the cap,
// not only Users.List.
func TestEveryListingEndsAtCap(t *testing.T) {
	cases := map[string]struct {
		key  string
		list func(c *aircall.Client) (int, error)
	}{
		"Teams.List": {"teams", func(c *aircall.Client) (int, error) { return countListing(c.Teams.List(t.Context(), nil)) }},
		"Users.Availabilities": {"users", func(c *aircall.Client) (int, error) {
			return countListing(c.Users.Availabilities(t.Context(), nil))
		}},
		"Calls.List": {"calls", func(c *aircall.Client) (int, error) { return countListing(c.Calls.List(t.Context(), nil)) }},
		"Calls.Search": {"calls", func(c *aircall.Client) (int, error) {
			return countListing(c.Calls.Search(t.Context(), aircall.SearchCallsOptions{Direction: "inbound"}))
		}},
		"Webhooks.List": {"webhooks", func(c *aircall.Client) (int, error) {
			return countListing(c.Webhooks().List(t.Context(), nil))
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv, requests := endlessListing(t, tc.key)
			n, err := tc.list(listingClient(t, srv.URL))
			assert.Equal(t, aircall.MaxListRecords, n)
			require.Error(t, err)
			assert.ErrorIs(t, err, telephony.ErrUnsupported)
			assert.EqualValues(t, aircall.MaxListRecords/aircall.MaxPerPage, requests.Load())
		})
	}
}

// A listing that starts at a later page counts the records before it: page
// 200 of 50 is the last one within the cap.
func TestListingFromLaterPageEndsAtCap(t *testing.T) {
	srv, requests := endlessUsers(t, 0)
	c := listingClient(t, srv.URL)
	n := 0
	var last error
	for _, err := range c.Users.List(t.Context(), &aircall.ListOptions{Page: 199}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	assert.Equal(t, 2*aircall.MaxPerPage, n)
	assert.ErrorIs(t, last, telephony.ErrUnsupported)
	assert.EqualValues(t, 2, requests.Load())
	// A first page already past the cap: nothing, and an error.
	n = 0
	for _, err := range c.Users.List(t.Context(), &aircall.ListOptions{Page: 300}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	assert.Zero(t, n)
	assert.Error(t, last)
}
