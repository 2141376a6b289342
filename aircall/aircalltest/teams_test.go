package aircalltest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

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
	if err != nil {
		t.Fatal(err)
	}
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
	if support.ID == 0 || sales.ID == support.ID || support.Name != "Support" || len(support.UserIDs) != 2 {
		t.Fatalf("AddTeam: %+v, %+v", support, sales)
	}
	if got := s.Teams(); len(got) != 2 || got[0].ID != support.ID || got[1].ID != sales.ID {
		t.Fatalf("Teams() = %+v", got)
	}

	resp, m := get(t, fmt.Sprintf("%s/v1/teams/%d", s.URL(), support.ID), true)
	team, _ := m["team"].(map[string]any)
	if resp.StatusCode != 200 || team == nil || team["id"].(float64) != float64(support.ID) || team["name"] != "Support" {
		t.Fatalf("GET team: %d %v", resp.StatusCode, m)
	}
	members, _ := team["users"].([]any)
	if len(members) != 2 || members[0].(map[string]any)["id"].(float64) != float64(users[0].ID) ||
		members[1].(map[string]any)["email"] != "agent3@example.com" {
		t.Errorf("team users = %v", members)
	}

	resp, m = get(t, s.URL()+"/v1/teams?per_page=1", true)
	teams, _ := m["teams"].([]any)
	meta, _ := m["meta"].(map[string]any)
	next, _ := meta["next_page_link"].(string)
	if resp.StatusCode != 200 || len(teams) != 1 || meta["total"].(float64) != 2 || !strings.HasPrefix(next, s.URL()+"/v1/teams?") {
		t.Fatalf("GET teams: %d %v", resp.StatusCode, m)
	}
	if _, m = get(t, next, true); len(m["teams"].([]any)) != 1 || m["teams"].([]any)[0].(map[string]any)["name"] != "Sales" {
		t.Errorf("second page: %v", m)
	}

	resp, m = get(t, s.URL()+"/v1/teams/424242", true)
	if resp.StatusCode != 404 || m["error"] != "Not Found" {
		t.Errorf("unknown team: %d %v", resp.StatusCode, m)
	}
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
	if status != 404 || m["error"] != "Not Found" || !strings.Contains(fmt.Sprint(m["troubleshoot"]), "Team") {
		t.Errorf("unknown team: %d %v", status, m)
	}
	if n := len(s.Transfers()); n != 0 {
		t.Fatalf("%d transfers after a 404", n)
	}
	status, _ = post(t, url, fmt.Sprintf(`{"team_id": %d, "dispatching_strategy": "random"}`, team.ID))
	if status != 204 {
		t.Fatalf("known team: %d", status)
	}
	if tr := s.Transfers(); len(tr) != 1 || tr[0].TeamID != team.ID || tr[0].DispatchingStrategy != "random" {
		t.Errorf("transfers = %+v", tr)
	}
}

func decodeJSON(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
