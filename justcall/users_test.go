package justcall_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func collect(t *testing.T, c *justcall.Client, opts *justcall.ListUsersOptions) ([]justcall.User, error) {
	t.Helper()
	var out []justcall.User
	for u, err := range c.Users.List(t.Context(), opts) {
		if err != nil {
			return out, err
		}
		out = append(out, u)
	}
	return out, nil
}

func TestUsersListWire(t *testing.T) {
	sim := newSim(t) // 3 users
	c := newClient(t, sim)
	users, err := collect(t, c, nil)
	require.NoError(t, err)
	require.Len(t, users, 3, "users")
	u := users[0]
	assert.Equal(t, []any{int64(1001), "Agent 1", "agent1@example.com", "Agent", true, false, "101", `["+14155550001"]`},
		[]any{u.ID, u.Name, u.Email, u.Role, u.Available, u.OnCall, u.Extension, string(u.OwnedNumbers)}, "user 1")
	assert.False(t, users[2].Available, `user 3 "available": "No"`)
	r := sim.Requests()[0]
	assert.Equal(t, "GET /v2.1/users", r.Method+" "+r.Path, "route")
	assert.Equal(t, "0/50", r.Query.Get("page")+"/"+r.Query.Get("per_page"), "first page is 0, default per_page 50")
}

func TestUsersListPages(t *testing.T) {
	for _, tc := range []struct {
		users, perPage, wantRequests int
	}{
		{0, 100, 1},
		{1, 100, 1},
		{100, 100, 1}, // a full page whose next_page_link is null: stop
		{250, 100, 3},
		{7, 2, 4},
	} {
		t.Run(fmt.Sprintf("%d users per %d", tc.users, tc.perPage), func(t *testing.T) {
			sim := justcalltest.NewServer()
			defer sim.Close()
			sim.SeedUsers(tc.users)
			c := newClient(t, sim)
			users, err := collect(t, c, &justcall.ListUsersOptions{PerPage: tc.perPage})
			require.NoError(t, err)
			assert.Len(t, users, tc.users, "users")
			seen := map[int64]bool{}
			for _, u := range users {
				require.False(t, seen[u.ID], "user %d listed twice", u.ID)
				seen[u.ID] = true
			}
			assert.Equal(t, tc.wantRequests, sim.Count("GET", "/v2.1/users"), "requests")
		})
	}
}

func TestUsersListEarlyBreak(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(250)
	c := newClient(t, sim)
	n := 0
	for _, err := range c.Users.List(t.Context(), &justcall.ListUsersOptions{PerPage: 100}) {
		require.NoError(t, err)
		if n++; n == 5 {
			break
		}
	}
	assert.Equal(t, 1, sim.Count("GET", "/v2.1/users"), "requests after breaking on page 0")
}

func TestUsersListFilters(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	yes := true
	users, err := collect(t, c, &justcall.ListUsersOptions{Available: &yes, Order: "desc", Role: "Agent", GroupID: 7})
	require.NoError(t, err)
	q := sim.Requests()[0].Query
	assert.Equal(t, []string{"true", "desc", "Agent", "7"}, []string{q.Get("available"), q.Get("order"), q.Get("role"), q.Get("group_id")}, "query")
	assert.Len(t, users, 2, "available users")
}

func TestUsersListInvalidOptions(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	for _, o := range []justcall.ListUsersOptions{{PerPage: 101}, {PerPage: -1}, {Page: -1}} {
		_, err := collect(t, c, &o)
		assert.ErrorIs(t, err, telephony.ErrInvalidRequest, "%+v", o)
	}
	assert.Zero(t, sim.Count("", "/"), "requests sent")
}

func TestUsersListRetriesReads(t *testing.T) {
	sim := newSim(t)
	c := newClient(t, sim)
	sim.InjectFault(justcalltest.Fault{Method: "GET", Path: "/v2.1/users", Status: 503, Times: 2})
	users, err := collect(t, c, nil)
	require.NoError(t, err)
	assert.Len(t, users, 3, "users")
	assert.Equal(t, 3, sim.Count("GET", "/v2.1/users"), "requests (two 503s retried)")
}

// A next_page_link after a short page is followed: the link, when JustCall
// sends the field, decides whether there is more.
func TestUsersListFollowsNextLinkAfterShortPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page") {
		case "0":
			_, _ = w.Write([]byte(`{"status":"success","data":[{"id":1,"email":"a@x.com"},{"id":2,"email":"b@x.com"}],"next_page_link":"https://api.justcall.io/v2.1/users?page=1"}`))
		default:
			_, _ = w.Write([]byte(`{"status":"success","data":[{"id":3,"email":"c@x.com"}],"next_page_link":null}`))
		}
	}))
	defer srv.Close()
	c, err := justcall.New("k", "s", telephony.WithBaseURL(srv.URL))
	require.NoError(t, err)
	var ids []int64
	for u, err := range c.Users.List(t.Context(), &justcall.ListUsersOptions{PerPage: 5}) {
		require.NoError(t, err)
		ids = append(ids, u.ID)
	}
	assert.Equal(t, []int64{1, 2, 3}, ids, "listed users")
}
