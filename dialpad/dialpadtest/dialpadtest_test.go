package dialpadtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secret = "0123456789abcdef0123456789abcdef"

// call sends one API request with the simulator's key.
func call(t *testing.T, srv *dialpadtest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+dialpadtest.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, m
}

func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestAuthAndErrorShape(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	resp, err := http.Get(srv.URL() + "/api/v2/users")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "no key: status")
	resp, err = http.Get(srv.URL() + "/api/v2/users?apikey=" + dialpadtest.APIKey)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode, "?apikey= : status")
	logged := srv.Requests()[1]
	assert.True(t, logged.APIKeyInURL, "?apikey= : logged %+v", logged)
	assert.NotContains(t, logged.Query, dialpadtest.APIKey, "?apikey= : logged %+v", logged)
	status, m := call(t, srv, "GET", "/api/v2/callrouters/77", "")
	e, _ := m["error"].(map[string]any)
	assert.Equal(t, 404, status, "404 body = %v", m)
	assert.Equal(t, float64(404), e["code"], "404 body = %v", m)
	assert.NotEmpty(t, errMessage(m), "404 body = %v", m)
	assert.Equal(t, 3, srv.Count("", "/api/v2/"), "counts: all")
	assert.Equal(t, 2, srv.Count("GET", "/api/v2/users"), "counts: users")
}

func TestRouterValidation(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	good := `{"name":"r","routing_url":"https://e.com/x","office_id":"1","default_target_id":2,"default_target_type":"office"}`
	status, m := call(t, srv, "POST", "/api/v2/callrouters", good)
	require.Equal(t, 200, status, "create: %v", m)
	require.Equal(t, true, m["enabled"], "create: %v", m)
	for _, body := range []string{
		`{"name":"r"}`,
		`{"name":"r","routing_url":"e.com/x","office_id":1,"default_target_id":2,"default_target_type":"office"}`,
		`{"name":"r","routing_url":"https://e.com/x","office_id":1,"default_target_id":2,"default_target_type":"team"}`,
		`{"name":"r","routing_url":"https://e.com/x","office_id":1,"default_target_id":2,"default_target_type":"office","secret":"short"}`,
		`{"name":"r","routing_url":"https://e.com/x","office_id":1,"default_target_id":2,"default_target_type":"office","colour":"red"}`,
		`{"name":"r","routing_url":"https://e.com/x","office_id":1,"default_target_id":2,"default_target_type":"office","reset_error_count":true}`,
	} {
		status, m := call(t, srv, "POST", "/api/v2/callrouters", body)
		assert.Equal(t, 400, status, "%s: %v; want 400 with a message", body, m)
		assert.NotEmpty(t, errMessage(m), "%s: %v; want 400 with a message", body, m)
	}
	assert.Len(t, srv.Routers(), 1, "routers")
}

func TestFaultsAndRateLimits(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	u := srv.SeedUsers(1)[0]
	body := fmt.Sprintf(`{"phone_number":"+14155550100","user_id":%d}`, u.ID)
	srv.InjectFault(dialpadtest.Fault{Method: "POST", Path: "/api/v2/call", Status: 503, Times: 2, RetryAfter: "1"})
	for range 2 {
		status, _ := call(t, srv, "POST", "/api/v2/call", body)
		assert.Equal(t, 503, status, "faulted")
	}
	assert.Empty(t, srv.Calls(), "a faulted POST was carried out")
	for i := range 6 {
		status, m := call(t, srv, "POST", "/api/v2/call", body)
		want := map[bool]int{true: 200, false: 429}[i < 5]
		assert.Equal(t, want, status, "call %d: %v", i, m)
	}
	srv.AdvanceClock(time.Minute)
	status, _ := call(t, srv, "POST", "/api/v2/call", body)
	assert.Equal(t, 200, status, "after a minute")
	assert.Equal(t, 9, srv.Count("POST", "/api/v2/call"), "count")
	srv.SetRateLimit(dialpadtest.RateLimit{CompanyPerSecond: 2, RetryAfter: "1"})
	var got []int
	for range 3 {
		status, _ := call(t, srv, "GET", "/api/v2/users", "")
		got = append(got, status)
	}
	assert.Equal(t, []int{200, 200, 429}, got, "company limit statuses")
}

func TestUsersCursorAndLimit(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	srv.SeedUsers(5)
	srv.SetPageSize(2)
	var ids []any
	cursor := ""
	for pages := 0; ; pages++ {
		path := "/api/v2/users"
		if cursor != "" {
			path += "?cursor=" + cursor
		}
		status, m := call(t, srv, "GET", path, "")
		require.Equal(t, 200, status, "page %d: %v", pages, m)
		items, _ := m["items"].([]any)
		for _, it := range items {
			ids = append(ids, it.(map[string]any)["id"])
		}
		cursor, _ = m["cursor"].(string)
		if cursor == "" {
			break
		}
	}
	assert.Len(t, ids, 5, "ids = %v", ids)
	status, _ := call(t, srv, "GET", "/api/v2/users?cursor=bogus", "")
	assert.Equal(t, 400, status, "bad cursor")
	var statuses []int
	for range 5 {
		status, _ := call(t, srv, "GET", "/api/v2/users?limit=500", "")
		statuses = append(statuses, status)
	}
	assert.Equal(t, []int{200, 200, 200, 200, 400}, statuses, "limit=500 statuses; want one 400 in five")
}

// routingEndpoint records routing requests and answers with answer().
type routingEndpoint struct {
	mu     sync.Mutex
	bodies [][]byte
	ctypes []string
}

func (e *routingEndpoint) serve(answer func(w http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.bodies = append(e.bodies, b)
		e.ctypes = append(e.ctypes, r.Header.Get("Content-Type"))
		e.mu.Unlock()
		answer(w)
	})
}

func TestInboundUnsignedAndSigned(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	var ep routingEndpoint
	hs := httptest.NewServer(ep.serve(func(w http.ResponseWriter) {
		_, _ = io.WriteString(w, `{"target_id": "4242", "target_type": "user"}`)
	}))
	defer hs.Close()
	plain := srv.AddRouter(dialpadtest.Router{Name: "p", RoutingURL: hs.URL, OfficeID: 1, DefaultTargetID: 9, DefaultTargetType: "office",
		Enabled: true, PhoneNumbers: []string{"+14155551005"}})
	signed := srv.AddRouter(dialpadtest.Router{Name: "s", RoutingURL: hs.URL, OfficeID: 1, DefaultTargetID: 9, DefaultTargetType: "office",
		Enabled: true, Secret: secret})

	res, err := srv.SimulateInboundCall(t.Context(), plain.ID, "+16505550123", "")
	require.NoError(t, err)
	assert.False(t, res.Fallback, "result = %+v", res)
	assert.Equal(t, int64(4242), res.TargetID, "result = %+v", res)
	assert.Equal(t, "user", res.TargetType, "result = %+v", res)
	assert.NoError(t, res.Err, "result = %+v", res)
	assert.Equal(t, 200, res.Status, "result = %+v", res)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(ep.bodies[0], &claims), "unsigned body %q (%s)", ep.bodies[0], ep.ctypes[0])
	require.Equal(t, "application/json", ep.ctypes[0], "unsigned body %q: content type", ep.bodies[0])
	assert.Equal(t, "+16505550123", claims["external_number"], "routing request = %v", claims)
	assert.Equal(t, "+14155551005", claims["internal_number"], "routing request = %v", claims)
	assert.Equal(t, float64(res.CallID), claims["call_id"], "routing request = %v", claims)
	assert.NotNil(t, claims["contact_type"], "routing request = %v", claims)
	assert.NotNil(t, claims["contact_id"], "routing request = %v", claims)
	ms, _ := claims["date_started"].(float64)
	assert.LessOrEqual(t, time.Since(time.UnixMilli(int64(ms))), time.Minute, "date_started = %v", claims["date_started"])

	srv.SetStringIDs(true)
	_, err = srv.SimulateInboundCall(t.Context(), signed.ID, "+16505550123", "+14155550000")
	require.NoError(t, err)
	assert.Equal(t, "application/jwt", ep.ctypes[1], "signed content type")
	tok, err := jwt.Parse(string(ep.bodies[1]), func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	require.NoError(t, err, "routing JWT")
	mc := tok.Claims.(jwt.MapClaims)
	assert.IsType(t, "", mc["call_id"], "signed claims = %v", mc)
	assert.Equal(t, "+16505550123", mc["external_number"], "signed claims = %v", mc)
	assert.Equal(t, 0, srv.RouterErrorCount(signed.ID), "error count")
}

func TestInboundErrorsFallbackAndDisable(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	srv.SetRoutingTimeout(100 * time.Millisecond)
	answers := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { w.WriteHeader(500) },
		func(w http.ResponseWriter) { _, _ = io.WriteString(w, `not json`) },
		func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"target_id": 5, "target_type": "team"}`) },
		func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"target_type": "user"}`) },
		func(w http.ResponseWriter) {
			_, _ = io.WriteString(w, `{"action":"forward","forward_to":"+14155550100"}`)
		},
		func(w http.ResponseWriter) { time.Sleep(300 * time.Millisecond) },
	}
	var mu sync.Mutex
	next := 0
	var ep routingEndpoint
	hs := httptest.NewServer(ep.serve(func(w http.ResponseWriter) {
		mu.Lock()
		a := answers[next%len(answers)]
		next++
		mu.Unlock()
		a(w)
	}))
	defer hs.Close()
	r := srv.AddRouter(dialpadtest.Router{Name: "r", RoutingURL: hs.URL, OfficeID: 1, DefaultTargetID: 9, DefaultTargetType: "callcenter", Enabled: true})
	for i := range 11 {
		res, err := srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
		require.NoError(t, err)
		assert.True(t, res.Fallback, "call %d: %+v; want the default target with an error", i, res)
		assert.Error(t, res.Err, "call %d: %+v; want the default target with an error", i, res)
		assert.Equal(t, int64(9), res.TargetID, "call %d: %+v; want the default target with an error", i, res)
		assert.Equal(t, "callcenter", res.TargetType, "call %d: %+v; want the default target with an error", i, res)
		assert.Equal(t, i == 10, res.Disabled, "call %d: Disabled", i)
	}
	got, _ := srv.Router(r.ID)
	require.False(t, got.Enabled, "router after 11 errors: %+v", got)
	require.Equal(t, 11, got.ErrorCount, "router after 11 errors: %+v", got)
	asked := len(ep.bodies)
	res, _ := srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	assert.True(t, res.Skipped, "disabled router: %+v", res)
	assert.True(t, res.Fallback, "disabled router: %+v", res)
	assert.Equal(t, asked, len(ep.bodies), "disabled router: routing requests sent")

	// Enabling alone keeps the count: one more error disables it again.
	status, m := call(t, srv, "PATCH", fmt.Sprintf("/api/v2/callrouters/%d", r.ID), `{"enabled": true}`)
	require.Equal(t, 200, status, "enable: %v", m)
	require.Equal(t, true, m["enabled"], "enable: %v", m)
	res, _ = srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	assert.True(t, res.Disabled, "after enabling without reset, one more error should disable: %+v", res)
	// The update limit: a second PATCH within 5 minutes is refused.
	status, _ = call(t, srv, "PATCH", fmt.Sprintf("/api/v2/callrouters/%d", r.ID), `{"enabled": true, "reset_error_count": true}`)
	assert.Equal(t, 429, status, "second PATCH")
	srv.AdvanceClock(5 * time.Minute)
	status, _ = call(t, srv, "PATCH", fmt.Sprintf("/api/v2/callrouters/%d", r.ID), `{"enabled": true, "reset_error_count": true}`)
	assert.Equal(t, 200, status, "PATCH after 5 minutes")
	assert.Equal(t, 0, srv.RouterErrorCount(r.ID), "error count after reset")
	// Errors age out of the one-hour window.
	_, _ = srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	srv.AdvanceClock(61 * time.Minute)
	assert.Equal(t, 0, srv.RouterErrorCount(r.ID), "error count an hour later")
}

func TestInboundActionRouteAccepted(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"action":"route","target_id":31,"target_type":"department"}`)
	}))
	defer hs.Close()
	r := srv.AddRouter(dialpadtest.Router{Name: "r", RoutingURL: hs.URL, OfficeID: 1, DefaultTargetID: 9, DefaultTargetType: "office", Enabled: true})
	res, err := srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	assert.NoError(t, err)
	assert.False(t, res.Fallback, "result = %+v", res)
	assert.Equal(t, int64(31), res.TargetID, "result = %+v", res)
	assert.Equal(t, "department", res.TargetType, "result = %+v", res)
	_, err = srv.SimulateInboundCall(t.Context(), 1, "+16505550123", "")
	assert.Error(t, err, "unknown router: no error")
	_, err = srv.SimulateInboundCall(t.Context(), r.ID, "6505550123", "")
	assert.Error(t, err, "bad from: no error")
}

func TestCallEventWebhooks(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	var mu sync.Mutex
	var states []string
	var ctypes []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		tok, err := jwt.Parse(string(bytes.TrimSpace(b)), func(*jwt.Token) (any, error) { return []byte(secret), nil },
			jwt.WithValidMethods([]string{"HS256"}))
		if err != nil {
			w.WriteHeader(401)
			return
		}
		c := tok.Claims.(jwt.MapClaims)
		mu.Lock()
		states = append(states, fmt.Sprint(c["state"], "/", c["direction"], "/", c["target"].(map[string]any)["type"]))
		ctypes = append(ctypes, r.Header.Get("Content-Type"))
		mu.Unlock()
	}))
	defer hook.Close()
	srv.AddWebhook(hook.URL, secret)
	u := srv.SeedUsers(1)[0]
	status, m := call(t, srv, "POST", "/api/v2/call", fmt.Sprintf(`{"phone_number":"+14155550100","user_id":"%d"}`, u.ID))
	require.Equal(t, 200, status, "call: %v", m)
	var id int64 // REST ids are strings by default
	_, _ = fmt.Sscan(fmt.Sprint(m["call_id"]), &id)
	require.NoError(t, srv.SetCallState(id, "connected"))
	require.NoError(t, srv.SetCallState(id, "hangup"))
	srv.FlushEvents()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"calling/outbound/user", "connected/outbound/user", "hangup/outbound/user"}, states, "states")
	for _, ct := range ctypes {
		assert.Equal(t, "application/jwt", ct, "content type")
	}
	ds := srv.Deliveries()
	if assert.Len(t, ds, 3, "deliveries = %+v", ds) {
		assert.Equal(t, 200, ds[2].Status, "deliveries = %+v", ds)
		assert.True(t, ds[2].Signed, "deliveries = %+v", ds)
		assert.Equal(t, id, ds[2].CallID, "deliveries = %+v", ds)
		assert.Equal(t, "hangup", ds[2].State, "deliveries = %+v", ds)
	}
}
