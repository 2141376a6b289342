package dialpad_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestUsersListCursor(t *testing.T) {
	for _, stringIDs := range []bool{false, true} {
		c, srv := newTestClient(t)
		srv.SetStringIDs(stringIDs)
		seeded := srv.SeedUsers(25)
		var got []dialpad.User
		for u, err := range c.Users.List(t.Context(), nil) {
			ok(t, err)
			got = append(got, u)
		}
		eq(t, "users", len(got), 25)
		eq(t, "pages", srv.Count("GET", "/api/v2/users"), 3)
		for i, u := range got {
			eq(t, "id", u.ID, seeded[i].ID)
			eq(t, "email", u.PrimaryEmail(), seeded[i].Email)
			assert.Equal(t, dialpadtest.OfficeID, u.OfficeID, "user %d = %+v", i, u)
			assert.True(t, u.IsAvailable, "user %d = %+v; want available", i, u)
			assert.NotEmpty(t, u.Name(), "user %d = %+v", i, u)
			assert.Len(t, u.PhoneNumbers, 1, "user %d = %+v", i, u)
		}
	}
}

func TestUsersListOptions(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SeedUsers(3)
	srv.AddUser(dialpadtest.User{Email: "gone@example.com", State: "suspended"})
	n := 0
	for u, err := range c.Users.List(t.Context(), &dialpad.ListUsersOptions{Email: "agent2@example.com"}) {
		ok(t, err)
		eq(t, "email", u.PrimaryEmail(), "agent2@example.com")
		n++
	}
	eq(t, "filtered users", n, 1)
	n = 0
	for _, err := range c.Users.List(t.Context(), &dialpad.ListUsersOptions{State: "all", Limit: 2}) {
		ok(t, err)
		n++
	}
	eq(t, "all users", n, 4)
	q := srv.Requests()[len(srv.Requests())-1].Query
	assert.Contains(t, q, "limit=2", "query")
	assert.Contains(t, q, "state=all", "query")
	before := srv.Count("", "/")
	for name, o := range map[string]*dialpad.ListUsersOptions{
		"state": {State: "gone"}, "limit": {Limit: 101}, "number": {Number: "555-1234"},
	} {
		for _, err := range c.Users.List(t.Context(), o) {
			assert.Error(t, err, "%s: no error", name)
			isErr(t, err, telephony.ErrInvalidRequest)
		}
	}
	eq(t, "requests for invalid options", srv.Count("", "/")-before, 0)
}

func TestUserJSON(t *testing.T) {
	var u dialpad.User
	ok(t, json.Unmarshal([]byte(`{"id":"42","office_id":7,"company_id":"9","admin_office_ids":["1",2],"emails":["a@b.c"],"is_available":true}`), &u))
	assert.Equal(t, int64(42), u.ID, "user = %+v", u)
	assert.Equal(t, int64(7), u.OfficeID, "user = %+v", u)
	assert.Equal(t, int64(9), u.CompanyID, "user = %+v", u)
	if assert.Len(t, u.AdminOfficeIDs, 2, "user = %+v", u) {
		assert.Equal(t, int64(1), u.AdminOfficeIDs[0], "user = %+v", u)
	}
	assert.True(t, u.IsAvailable, "user = %+v; want available", u)
}

func TestFindByEmailCachedAndShared(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SeedUsers(30)
	u, err := c.Users.FindByEmail(t.Context(), "Agent17@Example.com")
	ok(t, err)
	eq(t, "email", u.PrimaryEmail(), "agent17@example.com")
	// Sent as written (Dialpad's filter may be case-sensitive); the cache
	// key is case-insensitive.
	assert.Equal(t, "email=Agent17%40Example.com", srv.Requests()[0].Query, "want the email filter as written")
	// Cached: no second request. The copy handed out cannot poison it.
	u.Emails[0] = "mutated"
	u2, err := c.Users.FindByEmail(t.Context(), "agent17@example.com")
	ok(t, err)
	eq(t, "cached email", u2.PrimaryEmail(), "agent17@example.com")
	eq(t, "requests after a cached lookup", srv.Count("GET", "/api/v2/users"), 1)

	// 50 concurrent lookups of a new email share one request.
	srv.InjectFault(dialpadtest.Fault{Method: "GET", Path: "/api/v2/users", Delay: 50 * time.Millisecond})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := c.Users.FindByEmail(t.Context(), "agent3@example.com")
			if assert.NoError(t, err, "concurrent lookup") {
				assert.Equal(t, "agent3@example.com", u.PrimaryEmail(), "concurrent lookup: %v", u)
			}
		}()
	}
	wg.Wait()
	n := srv.Count("GET", "/api/v2/users") - 1
	t.Logf("FindByEmail: 50 concurrent lookups of one email sent %d request(s)", n)
	eq(t, "requests for 50 concurrent lookups", n, 1)
}

func TestFindByEmailNotFoundAndTTL(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SeedUsers(2)
	_, err := c.Users.FindByEmail(t.Context(), "nobody@example.com")
	isErr(t, err, telephony.ErrNotFound)
	_, err = c.Users.FindByEmail(t.Context(), "nobody@example.com")
	isErr(t, err, telephony.ErrNotFound)
	eq(t, "requests (not found is cached briefly)", srv.Count("GET", "/api/v2/users"), 1)

	_, err = c.Users.FindByEmail(t.Context(), "not an email")
	isErr(t, err, telephony.ErrInvalidRequest)

	c.Users.SetEmailCacheTTL(20 * time.Millisecond)
	_, err = c.Users.FindByEmail(t.Context(), "agent1@example.com")
	ok(t, err)
	time.Sleep(40 * time.Millisecond)
	_, err = c.Users.FindByEmail(t.Context(), "agent1@example.com")
	ok(t, err)
	eq(t, "requests after the TTL", srv.Count("GET", "/api/v2/users"), 3)
}

func TestFindByEmailFailuresNotCached(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SeedUsers(1)
	srv.InjectFault(dialpadtest.Fault{Method: "GET", Path: "/api/v2/users", Status: 400})
	_, err := c.Users.FindByEmail(t.Context(), "agent1@example.com")
	isErr(t, err, telephony.ErrInvalidRequest)
	u, err := c.Users.FindByEmail(t.Context(), "agent1@example.com")
	ok(t, err)
	eq(t, "email", u.PrimaryEmail(), "agent1@example.com")
}

// When the caller leading a shared lookup gives up, the others carry on.
func TestFindByEmailLeaderCancelled(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SeedUsers(1)
	srv.InjectFault(dialpadtest.Fault{Method: "GET", Path: "/api/v2/users", Delay: 300 * time.Millisecond})
	leaderCtx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Users.FindByEmail(leaderCtx, "agent1@example.com")
		leaderErr <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the leader start
	u, err := c.Users.FindByEmail(t.Context(), "agent1@example.com")
	ok(t, err)
	eq(t, "email", u.PrimaryEmail(), "agent1@example.com")
	isErr(t, <-leaderErr, context.DeadlineExceeded)
}

// FuzzUserJSON: decoding a user never panics, and a decoded user survives
// an encode/decode round trip.
func FuzzUserJSON(f *testing.F) {
	f.Add(`{"id":"5165402724715258","office_id":"6422934115149452","company_id":123,"emails":["a@b.c"],"admin_office_ids":["1",2],"state":"active"}`)
	f.Add(`{"id":1,"is_available":true,"phone_numbers":["+14155551005"],"date_added":"2024-01-02T03:04:05"}`)
	f.Add(`{"admin_office_ids":null,"id":""}`)
	f.Fuzz(func(t *testing.T, in string) {
		var u dialpad.User
		if json.Unmarshal([]byte(in), &u) != nil {
			return
		}
		out, err := json.Marshal(u)
		require.NoError(t, err)
		var back dialpad.User
		require.NoError(t, json.Unmarshal(out, &back), "decoding our own %s", out)
		a, _ := json.Marshal(back)
		require.Equal(t, string(out), string(a), "round trip changed %s into %s", out, a)
	})
}
