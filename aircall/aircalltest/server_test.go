package aircalltest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, url string, auth bool) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if auth {
		req.SetBasicAuth(aircalltest.APIID, aircalltest.APIToken)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("body %q: %v", data, err)
	}
	return resp, m
}

func TestPaginationMetaLinksOnOwnHost(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	s.SeedUsers(45)
	_, m := get(t, s.URL()+"/v1/users?per_page=20&page=2", true)
	meta := m["meta"].(map[string]any)
	if meta["count"].(float64) != 20 || meta["total"].(float64) != 45 || meta["current_page"].(float64) != 2 {
		t.Errorf("meta = %v", meta)
	}
	next, _ := meta["next_page_link"].(string)
	prev, _ := meta["previous_page_link"].(string)
	if !strings.HasPrefix(next, s.URL()+"/v1/users?") || !strings.Contains(next, "page=3") || !strings.Contains(prev, "page=1") {
		t.Errorf("links = %q, %q", next, prev)
	}
	_, m = get(t, next, true)
	if meta := m["meta"].(map[string]any); meta["next_page_link"] != nil || meta["count"].(float64) != 5 {
		t.Errorf("last page meta = %v", meta)
	}
	// per_page is capped at 50.
	_, m = get(t, s.URL()+"/v1/users?per_page=500", true)
	if n := len(m["users"].([]any)); n != 45 || m["meta"].(map[string]any)["per_page"].(float64) != 50 {
		t.Errorf("per_page=500: %d users, meta %v", n, m["meta"])
	}
}

func TestUnauthorizedAndRateLimitShapes(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	resp, m := get(t, s.URL()+"/v1/users", false)
	if resp.StatusCode != 401 || m["error"] == nil || m["troubleshoot"] == nil {
		t.Errorf("no credentials: %d %v", resp.StatusCode, m)
	}
	s.SetRateLimit(1, 3600e9) // an hour: both requests fall in one window
	resp, _ = get(t, s.URL()+"/v1/users", true)
	if resp.StatusCode != 200 || resp.Header.Get("X-AircallApi-Limit") != "1" || resp.Header.Get("X-AircallApi-Remaining") != "0" || resp.Header.Get("X-AircallApi-Reset") == "" {
		t.Errorf("first request: %d %v", resp.StatusCode, resp.Header)
	}
	resp, m = get(t, s.URL()+"/v1/users", true)
	if resp.StatusCode != 429 || m["error"] != "Too Many Requests" || s.Throttled() != 1 {
		t.Errorf("second request: %d %v", resp.StatusCode, m)
	}
	if n := s.Count("GET", "/v1/users"); n != 3 {
		t.Errorf("Count = %d, want 3", n)
	}
}
