package aircalltest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), "body %q", data)
	return resp, m
}

func TestPaginationMetaLinksOnOwnHost(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	s.SeedUsers(45)
	_, m := get(t, s.URL()+"/v1/users?per_page=20&page=2", true)
	meta := m["meta"].(map[string]any)
	assert.Equal(t, 20.0, meta["count"], "meta = %v", meta)
	assert.Equal(t, 45.0, meta["total"], "meta = %v", meta)
	assert.Equal(t, 2.0, meta["current_page"], "meta = %v", meta)
	next, _ := meta["next_page_link"].(string)
	prev, _ := meta["previous_page_link"].(string)
	assert.True(t, strings.HasPrefix(next, s.URL()+"/v1/users?"), "links = %q, %q", next, prev)
	assert.Contains(t, next, "page=3", "links = %q, %q", next, prev)
	assert.Contains(t, prev, "page=1", "links = %q, %q", next, prev)
	_, m = get(t, next, true)
	last := m["meta"].(map[string]any)
	assert.Nil(t, last["next_page_link"], "last page meta = %v", last)
	assert.Equal(t, 5.0, last["count"], "last page meta = %v", last)
	// per_page is capped at 50.
	_, m = get(t, s.URL()+"/v1/users?per_page=500", true)
	assert.Len(t, m["users"], 45, "per_page=500: meta %v", m["meta"])
	assert.Equal(t, 50.0, m["meta"].(map[string]any)["per_page"], "per_page=500: meta %v", m["meta"])
}

func TestUnauthorizedAndRateLimitShapes(t *testing.T) {
	s := aircalltest.NewServer()
	defer s.Close()
	resp, m := get(t, s.URL()+"/v1/users", false)
	assert.Equal(t, 401, resp.StatusCode, "no credentials: %v", m)
	assert.NotNil(t, m["error"], "no credentials: %v", m)
	assert.NotNil(t, m["troubleshoot"], "no credentials: %v", m)
	s.SetRateLimit(1, 3600e9) // an hour: both requests fall in one window
	resp, _ = get(t, s.URL()+"/v1/users", true)
	assert.Equal(t, 200, resp.StatusCode, "first request: %v", resp.Header)
	assert.Equal(t, "1", resp.Header.Get("X-AircallApi-Limit"), "first request: %v", resp.Header)
	assert.Equal(t, "0", resp.Header.Get("X-AircallApi-Remaining"), "first request: %v", resp.Header)
	assert.NotEmpty(t, resp.Header.Get("X-AircallApi-Reset"), "first request: %v", resp.Header)
	resp, m = get(t, s.URL()+"/v1/users", true)
	assert.Equal(t, 429, resp.StatusCode, "second request: %v", m)
	assert.Equal(t, "Too Many Requests", m["error"], "second request: %v", m)
	assert.Equal(t, 1, s.Throttled(), "second request: %d %v", resp.StatusCode, m)
	assert.Equal(t, 3, s.Count("GET", "/v1/users"), "Count")
}
