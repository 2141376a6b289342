package aircalltest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall/aircalltest"
)

type listing struct {
	Users []struct {
		ID        int64  `json:"id"`
		CreatedAt string `json:"created_at"`
	} `json:"users"`
	Meta struct {
		Total        int     `json:"total"`
		NextPageLink *string `json:"next_page_link"`
	} `json:"meta"`
}

func getUsers(t *testing.T, sim *aircalltest.Server, q url.Values) listing {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, sim.URL()+"/v1/users?"+q.Encode(), nil)
	require.NoError(t, err)
	req.SetBasicAuth(aircalltest.APIID, aircalltest.APIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var l listing
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&l))
	return l
}

// The simulator serves no record past Aircall's 10,000 cap, filters users
// by creation time (from/to, Unix seconds, inclusive) and sorts by it.
func TestUsersListingCapAndCreationFilters(t *testing.T) {
	sim := aircalltest.NewServer()
	t.Cleanup(sim.Close)
	users := sim.SeedUsers(aircalltest.MaxRecords + 30)

	last := getUsers(t, sim, url.Values{"page": {"200"}, "per_page": {"50"}})
	assert.Len(t, last.Users, 50)
	assert.Nil(t, last.Meta.NextPageLink, "no next page at the cap")
	assert.Equal(t, aircalltest.MaxRecords+30, last.Meta.Total)
	past := getUsers(t, sim, url.Values{"page": {"201"}, "per_page": {"50"}})
	assert.Empty(t, past.Users, "nothing past the cap")

	from := users[aircalltest.MaxRecords].CreatedAt
	after := getUsers(t, sim, url.Values{"from": {formatUnix(from)}, "per_page": {"50"}})
	require.Len(t, after.Users, 30)
	assert.Equal(t, users[aircalltest.MaxRecords].ID, after.Users[0].ID)
	assert.Equal(t, 30, after.Meta.Total)

	window := getUsers(t, sim, url.Values{"from": {formatUnix(users[4].CreatedAt)}, "to": {formatUnix(users[6].CreatedAt)}, "order": {"desc"}})
	require.Len(t, window.Users, 3)
	assert.Equal(t, []int64{users[6].ID, users[5].ID, users[4].ID}, []int64{window.Users[0].ID, window.Users[1].ID, window.Users[2].ID})
	ts, err := time.Parse(time.RFC3339, window.Users[0].CreatedAt)
	require.NoError(t, err)
	assert.True(t, ts.Equal(users[6].CreatedAt))
}

func formatUnix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
