package telephonytest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(got), "router-secret", "the recorder altered the live response")
	path := filepath.Join(t.TempDir(), "c.json")
	require.NoError(t, rec.Save(path))
	data, _ := os.ReadFile(path)
	for _, secret := range []string{"k-SECRETKEY", "router-secret", "session=abc", "Bearer", "CALLBACKTOKEN"} {
		assert.NotContains(t, string(data), secret, "cassette holds %q", secret)
	}

	rp, err := telephonytest.NewReplayer(path, "k-SECRETKEY")
	require.NoError(t, err)
	// Same request, other key order and a different (scrubbed) secret value.
	req2, _ := http.NewRequest(http.MethodPost, "https://dialpad.com/api/v2/callrouters?a=1&b=2&apikey=k-SECRETKEY",
		strings.NewReader(`{"secret":"another-secret-value-0123456789abcd","name":"r","callback_url":"https://crm.example.com/cb?sb_token=OTHERTOKEN&x=1"}`))
	resp2, err := rp.Client().Do(req2)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	var decoded struct{ ID int }
	assert.Equal(t, 200, resp2.StatusCode, "replay: %d %s", resp2.StatusCode, body)
	require.NoError(t, json.Unmarshal(body, &decoded), "replay: %d %s", resp2.StatusCode, body)
	assert.Equal(t, 7, decoded.ID, "replay: %d %s", resp2.StatusCode, body)
	req3, _ := http.NewRequest(http.MethodGet, "https://dialpad.com/api/v2/users", nil)
	_, err = rp.Client().Do(req3)
	assert.ErrorIs(t, err, telephonytest.ErrNotRecorded, "unrecorded request: %v", err)
	assert.ErrorContains(t, err, "GET /api/v2/users", "unrecorded request: %v", err)
	assert.Empty(t, rp.Unused(), "interaction not marked used")
}
