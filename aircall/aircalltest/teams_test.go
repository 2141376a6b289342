package aircalltest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
)

// post sends an authorized JSON POST and returns the status and the error
// body, if any.
func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	req.SetBasicAuth(aircalltest.APIID, aircalltest.APIToken)
	req.Header.Set("Content-Type", "application/json")
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	_ = decodeJSON(resp, &m)
	return resp.StatusCode, m
}

func TestTeams(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	users := s.SeedUsers(3)
	support := s.AddTeam("Support", users[0].ID, users[2].ID)
	sales := s.AddTeam("Sales")
	require.NotZero(t, support.ID, "AddTeam: %+v, %+v", support, sales)
	require.NotEqual(t, support.ID, sales.ID, "AddTeam: %+v, %+v", support, sales)
	require.Equal(t, "Support", support.Name, "AddTeam: %+v, %+v", support, sales)
	require.Len(t, support.UserIDs, 2, "AddTeam: %+v, %+v", support, sales)
	got := s.Teams()
	require.Len(t, got, 2, "Teams() = %+v", got)
	require.Equal(t, support.ID, got[0].ID, "Teams() = %+v", got)
	require.Equal(t, sales.ID, got[1].ID, "Teams() = %+v", got)

	resp, m := get(t, fmt.Sprintf("%s/v1/teams/%d", s.URL(), support.ID), true)
	team, _ := m["team"].(map[string]any)
	require.Equal(t, 200, resp.StatusCode, "GET team: %v", m)
	require.NotNil(t, team, "GET team: %d %v", resp.StatusCode, m)
	require.Equal(t, float64(support.ID), team["id"], "GET team: %d %v", resp.StatusCode, m)
	require.Equal(t, "Support", team["name"], "GET team: %d %v", resp.StatusCode, m)
	members, _ := team["users"].([]any)
	if assert.Len(t, members, 2, "team users = %v", members) {
		assert.Equal(t, float64(users[0].ID), members[0].(map[string]any)["id"], "team users = %v", members)
		assert.Equal(t, "agent3@example.com", members[1].(map[string]any)["email"], "team users = %v", members)
	}

	resp, m = get(t, s.URL()+"/v1/teams?per_page=1", true)
	teams, _ := m["teams"].([]any)
	meta, _ := m["meta"].(map[string]any)
	next, _ := meta["next_page_link"].(string)
	require.Equal(t, 200, resp.StatusCode, "GET teams: %v", m)
	require.Len(t, teams, 1, "GET teams: %d %v", resp.StatusCode, m)
	require.Equal(t, 2.0, meta["total"], "GET teams: %d %v", resp.StatusCode, m)
	require.True(t, strings.HasPrefix(next, s.URL()+"/v1/teams?"), "GET teams: %d %v", resp.StatusCode, m)
	_, m = get(t, next, true)
	page2, _ := m["teams"].([]any)
	if assert.Len(t, page2, 1, "second page: %v", m) {
		assert.Equal(t, "Sales", page2[0].(map[string]any)["name"], "second page: %v", m)
	}

	resp, m = get(t, s.URL()+"/v1/teams/424242", true)
	assert.Equal(t, 404, resp.StatusCode, "unknown team: %v", m)
	assert.Equal(t, "Not Found", m["error"], "unknown team: %d %v", resp.StatusCode, m)
}

// TestTransferToUnknownTeam: Aircall answers 404 for a team_id the company
// lacks, and nothing is transferred; a known team is accepted.
func TestTransferToUnknownTeam(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	team := s.AddTeam("Support")
	call := s.CreateInboundCall("+33612345678", "+14155550100")
	url := fmt.Sprintf("%s/v1/calls/%d/transfers", s.URL(), call)

	status, m := post(t, url, `{"team_id": 424242}`)
	assert.Equal(t, 404, status, "unknown team: %v", m)
	assert.Equal(t, "Not Found", m["error"], "unknown team: %d %v", status, m)
	assert.Contains(t, fmt.Sprint(m["troubleshoot"]), "Team", "unknown team: %d %v", status, m)
	require.Empty(t, s.Transfers(), "transfers after a 404")
	status, _ = post(t, url, fmt.Sprintf(`{"team_id": %d, "dispatching_strategy": "random"}`, team.ID))
	require.Equal(t, 204, status, "known team")
	tr := s.Transfers()
	if assert.Len(t, tr, 1, "transfers = %+v", tr) {
		assert.Equal(t, team.ID, tr[0].TeamID, "transfers = %+v", tr)
		assert.Equal(t, "random", tr[0].DispatchingStrategy, "transfers = %+v", tr)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
