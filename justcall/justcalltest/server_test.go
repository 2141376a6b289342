package justcalltest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/justcall/justcalltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func do(t *testing.T, sim *justcalltest.Server, method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, sim.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

const goodAuth = justcalltest.APIKey + ":" + justcalltest.APISecret

func TestAuthAndErrorShape(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	defer http.DefaultClient.CloseIdleConnections()
	sim.SeedUsers(1)
	for _, auth := range []string{"", "Basic " + goodAuth, justcalltest.APIKey + ":wrong"} {
		code, body := do(t, sim, "GET", "/v2.1/users", auth, "")
		assert.Equal(t, 401, code, "auth %q: %v, want 401 with JustCall's error shape", auth, body)
		assert.Equal(t, "error", body["status"], "auth %q: %d %v, want 401 with JustCall's error shape", auth, code, body)
		assert.NotEqual(t, "", body["message"], "auth %q: %d %v, want 401 with JustCall's error shape", auth, code, body)
	}
	code, body := do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"to":"+14155559876"}`)
	assert.Equal(t, 400, code, "missing from: %v", body)
	assert.Contains(t, body["message"].(string), "from", "missing from: %d %v", code, body)
	code, body = do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"from":"+14155550001","to":"+14155559876","agent_id":"1001"}`)
	assert.Equal(t, 200, code, "agent_id as a numeric string: %v", body)
	assert.Equal(t, 1001.0, body["data"].(map[string]any)["agent_id"], "agent_id as a numeric string: %d %v", code, body)
	assert.Equal(t, 5, sim.Count("", "/"), "Count")
}

func TestFaultedPostIsCountedNotCarriedOut(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	defer http.DefaultClient.CloseIdleConnections()
	sim.SeedUsers(1)
	sim.InjectFault(justcalltest.Fault{Method: "POST", Path: "/v2/calls", Status: 503, Times: 2})
	for range 2 {
		code, _ := do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"from":"+14155550001","to":"+14155559876"}`)
		assert.Equal(t, 503, code, "status during the fault")
	}
	code, _ := do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"from":"+14155550001","to":"+14155559876"}`)
	assert.Equal(t, 200, code, "status after the fault")
	assert.Equal(t, 3, sim.Count("POST", "/v2/calls/make"), "count")
	assert.Len(t, sim.Calls(), 1, "calls")
}

// TestCloseWaitsForCallbacks: Close returns only when the callback
// goroutines are done, so nothing outlives the simulator.
func TestCloseWaitsForCallbacks(t *testing.T) {
	var got atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
	}))
	defer recv.Close()
	sim := justcalltest.NewServer()
	sim.SeedUsers(1)
	sim.SetCallbackInterval(time.Hour) // the sequence would take hours
	code, _ := do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"from":"+14155550001","to":"+14155559876","callback_url":"`+recv.URL+`"}`)
	http.DefaultClient.CloseIdleConnections()
	require.Equal(t, 200, code, "make")
	start := time.Now()
	deadline := time.Now().Add(5 * time.Second)
	for got.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sim.Close()
	t.Logf("Close with a callback sequence in progress returned after %v; callbacks delivered=%d", time.Since(start).Round(time.Millisecond), got.Load())
	assert.Equal(t, int32(1), got.Load(), "callbacks delivered, want 1 (ringing) before Close")
}
