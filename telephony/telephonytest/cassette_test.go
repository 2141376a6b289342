package telephonytest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard-go/switchboard/telephony/telephonytest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRecordScrubReplay(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=abc")
		_, _ = io.WriteString(w, `{"id":7,"signature":{"secret":"router-secret-0123456789abcdef0123"},"echo":"k-SECRETKEY"}`)
	}))
	defer srv.Close()
	rec := telephonytest.NewRecorder(srv.Client().Transport, "k-SECRETKEY")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v2/callrouters?apikey=k-SECRETKEY&b=2&a=1",
		strings.NewReader(`{"name":"r","secret":"router-secret-0123456789abcdef0123","callback_url":"https://crm.example.com/cb?sb_token=CALLBACKTOKEN&x=1"}`))
	req.Header.Set("Authorization", "Bearer k-SECRETKEY")
	resp, err := rec.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(got), "router-secret") {
		t.Fatal("the recorder altered the live response")
	}
	path := filepath.Join(t.TempDir(), "c.json")
	if err := rec.Save(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, secret := range []string{"k-SECRETKEY", "router-secret", "session=abc", "Bearer", "CALLBACKTOKEN"} {
		if strings.Contains(string(data), secret) {
			t.Fatalf("cassette holds %q:\n%s", secret, data)
		}
	}

	rp, err := telephonytest.NewReplayer(path, "k-SECRETKEY")
	if err != nil {
		t.Fatal(err)
	}
	// Same request, other key order and a different (scrubbed) secret value.
	req2, _ := http.NewRequest(http.MethodPost, "https://dialpad.com/api/v2/callrouters?a=1&b=2&apikey=k-SECRETKEY",
		strings.NewReader(`{"secret":"another-secret-value-0123456789abcd","name":"r","callback_url":"https://crm.example.com/cb?sb_token=OTHERTOKEN&x=1"}`))
	resp2, err := rp.Client().Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	var decoded struct{ ID int }
	if resp2.StatusCode != 200 || json.Unmarshal(body, &decoded) != nil || decoded.ID != 7 {
		t.Fatalf("replay: %d %s", resp2.StatusCode, body)
	}
	req3, _ := http.NewRequest(http.MethodGet, "https://dialpad.com/api/v2/users", nil)
	if _, err := rp.Client().Do(req3); !errors.Is(err, telephonytest.ErrNotRecorded) || !strings.Contains(err.Error(), "GET /api/v2/users") {
		t.Fatalf("unrecorded request: %v", err)
	}
	if len(rp.Unused()) != 0 {
		t.Fatal("interaction not marked used")
	}
}
