package justcalltest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/justcall/justcalltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func do(t *testing.T, sim *justcalltest.Server, method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, sim.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
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
		if code != 401 || body["status"] != "error" || body["message"] == "" {
			t.Errorf("auth %q: %d %v, want 401 with JustCall's error shape", auth, code, body)
		}
	}
	code, body := do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"to":"+14155559876"}`)
	if code != 400 || !strings.Contains(body["message"].(string), "from") {
		t.Errorf("missing from: %d %v", code, body)
	}
	code, body = do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"from":"+14155550001","to":"+14155559876","agent_id":"1001"}`)
	if code != 200 || body["data"].(map[string]any)["agent_id"] != 1001.0 {
		t.Errorf("agent_id as a numeric string: %d %v", code, body)
	}
	if n := sim.Count("", "/"); n != 5 {
		t.Errorf("Count = %d, want 5", n)
	}
}

func TestFaultedPostIsCountedNotCarriedOut(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	defer http.DefaultClient.CloseIdleConnections()
	sim.SeedUsers(1)
	sim.InjectFault(justcalltest.Fault{Method: "POST", Path: "/v2/calls", Status: 503, Times: 2})
	for range 2 {
		if code, _ := do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"from":"+14155550001","to":"+14155559876"}`); code != 503 {
			t.Errorf("status %d, want 503", code)
		}
	}
	if code, _ := do(t, sim, "POST", "/v2/calls/make", goodAuth, `{"from":"+14155550001","to":"+14155559876"}`); code != 200 {
		t.Errorf("after the fault: %d", code)
	}
	if n, calls := sim.Count("POST", "/v2/calls/make"), len(sim.Calls()); n != 3 || calls != 1 {
		t.Errorf("count %d calls %d, want 3 and 1", n, calls)
	}
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
	if code != 200 {
		t.Fatalf("make: %d", code)
	}
	start := time.Now()
	deadline := time.Now().Add(5 * time.Second)
	for got.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	sim.Close()
	t.Logf("Close with a callback sequence in progress returned after %v; callbacks delivered=%d", time.Since(start).Round(time.Millisecond), got.Load())
	if got.Load() != 1 {
		t.Errorf("callbacks delivered = %d, want 1 (ringing) before Close", got.Load())
	}
}
