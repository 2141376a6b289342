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
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secret = "0123456789abcdef0123456789abcdef"

// call sends one API request with the simulator's key.
func call(t *testing.T, srv *dialpadtest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+dialpadtest.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no key: status %d; want 401", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL() + "/api/v2/users?apikey=" + dialpadtest.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !srv.Requests()[1].APIKeyInURL || strings.Contains(srv.Requests()[1].Query, dialpadtest.APIKey) {
		t.Errorf("?apikey= : status %d, logged %+v", resp.StatusCode, srv.Requests()[1])
	}
	status, m := call(t, srv, "GET", "/api/v2/callrouters/77", "")
	e, _ := m["error"].(map[string]any)
	if status != 404 || e["code"] != float64(404) || errMessage(m) == "" {
		t.Errorf("404 body = %v", m)
	}
	if srv.Count("", "/api/v2/") != 3 || srv.Count("GET", "/api/v2/users") != 2 {
		t.Errorf("counts: all=%d users=%d", srv.Count("", "/api/v2/"), srv.Count("GET", "/api/v2/users"))
	}
}

func TestRouterValidation(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	good := `{"name":"r","routing_url":"https://e.com/x","office_id":"1","default_target_id":2,"default_target_type":"office"}`
	if status, m := call(t, srv, "POST", "/api/v2/callrouters", good); status != 200 || m["enabled"] != true {
		t.Fatalf("create: %d %v", status, m)
	}
	for _, body := range []string{
		`{"name":"r"}`,
		`{"name":"r","routing_url":"e.com/x","office_id":1,"default_target_id":2,"default_target_type":"office"}`,
		`{"name":"r","routing_url":"https://e.com/x","office_id":1,"default_target_id":2,"default_target_type":"team"}`,
		`{"name":"r","routing_url":"https://e.com/x","office_id":1,"default_target_id":2,"default_target_type":"office","secret":"short"}`,
		`{"name":"r","routing_url":"https://e.com/x","office_id":1,"default_target_id":2,"default_target_type":"office","colour":"red"}`,
		`{"name":"r","routing_url":"https://e.com/x","office_id":1,"default_target_id":2,"default_target_type":"office","reset_error_count":true}`,
	} {
		if status, m := call(t, srv, "POST", "/api/v2/callrouters", body); status != 400 || errMessage(m) == "" {
			t.Errorf("%s: %d %v; want 400 with a message", body, status, m)
		}
	}
	if n := len(srv.Routers()); n != 1 {
		t.Errorf("routers = %d; want 1", n)
	}
}

func TestFaultsAndRateLimits(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	u := srv.SeedUsers(1)[0]
	body := fmt.Sprintf(`{"phone_number":"+14155550100","user_id":%d}`, u.ID)
	srv.InjectFault(dialpadtest.Fault{Method: "POST", Path: "/api/v2/call", Status: 503, Times: 2, RetryAfter: "1"})
	for range 2 {
		if status, _ := call(t, srv, "POST", "/api/v2/call", body); status != 503 {
			t.Errorf("faulted: %d", status)
		}
	}
	if len(srv.Calls()) != 0 {
		t.Error("a faulted POST was carried out")
	}
	for i := range 6 {
		status, m := call(t, srv, "POST", "/api/v2/call", body)
		if want := map[bool]int{true: 200, false: 429}[i < 5]; status != want {
			t.Errorf("call %d: %d %v; want %d", i, status, m, want)
		}
	}
	srv.AdvanceClock(time.Minute)
	if status, _ := call(t, srv, "POST", "/api/v2/call", body); status != 200 {
		t.Errorf("after a minute: %d", status)
	}
	if n := srv.Count("POST", "/api/v2/call"); n != 9 {
		t.Errorf("count = %d; want 9", n)
	}
	srv.SetRateLimit(dialpadtest.RateLimit{CompanyPerSecond: 2, RetryAfter: "1"})
	var got []int
	for range 3 {
		status, _ := call(t, srv, "GET", "/api/v2/users", "")
		got = append(got, status)
	}
	if fmt.Sprint(got) != "[200 200 429]" {
		t.Errorf("company limit statuses = %v", got)
	}
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
		if status != 200 {
			t.Fatalf("page %d: %d %v", pages, status, m)
		}
		items, _ := m["items"].([]any)
		for _, it := range items {
			ids = append(ids, it.(map[string]any)["id"])
		}
		cursor, _ = m["cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if len(ids) != 5 {
		t.Errorf("ids = %v", ids)
	}
	if status, _ := call(t, srv, "GET", "/api/v2/users?cursor=bogus", ""); status != 400 {
		t.Errorf("bad cursor: %d", status)
	}
	var statuses []int
	for range 5 {
		status, _ := call(t, srv, "GET", "/api/v2/users?limit=500", "")
		statuses = append(statuses, status)
	}
	if fmt.Sprint(statuses) != "[200 200 200 200 400]" {
		t.Errorf("limit=500 statuses = %v; want one 400 in five", statuses)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if res.Fallback || res.TargetID != 4242 || res.TargetType != "user" || res.Err != nil || res.Status != 200 {
		t.Errorf("result = %+v", res)
	}
	var claims map[string]any
	if err := json.Unmarshal(ep.bodies[0], &claims); err != nil || ep.ctypes[0] != "application/json" {
		t.Fatalf("unsigned body %q (%s): %v", ep.bodies[0], ep.ctypes[0], err)
	}
	if claims["external_number"] != "+16505550123" || claims["internal_number"] != "+14155551005" ||
		claims["call_id"] != float64(res.CallID) || claims["contact_type"] == nil || claims["contact_id"] == nil {
		t.Errorf("routing request = %v", claims)
	}
	if ms, _ := claims["date_started"].(float64); time.Since(time.UnixMilli(int64(ms))) > time.Minute {
		t.Errorf("date_started = %v", claims["date_started"])
	}

	srv.SetStringIDs(true)
	if _, err := srv.SimulateInboundCall(t.Context(), signed.ID, "+16505550123", "+14155550000"); err != nil {
		t.Fatal(err)
	}
	if ep.ctypes[1] != "application/jwt" {
		t.Errorf("signed content type = %q", ep.ctypes[1])
	}
	tok, err := jwt.Parse(string(ep.bodies[1]), func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		t.Fatalf("routing JWT: %v", err)
	}
	mc := tok.Claims.(jwt.MapClaims)
	if _, isString := mc["call_id"].(string); !isString || mc["external_number"] != "+16505550123" {
		t.Errorf("signed claims = %v", mc)
	}
	if n := srv.RouterErrorCount(signed.ID); n != 0 {
		t.Errorf("error count = %d", n)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		if !res.Fallback || res.Err == nil || res.TargetID != 9 || res.TargetType != "callcenter" {
			t.Errorf("call %d: %+v; want the default target with an error", i, res)
		}
		if res.Disabled != (i == 10) {
			t.Errorf("call %d: Disabled=%v", i, res.Disabled)
		}
	}
	got, _ := srv.Router(r.ID)
	if got.Enabled || got.ErrorCount != 11 {
		t.Fatalf("router after 11 errors: %+v", got)
	}
	asked := len(ep.bodies)
	res, _ := srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	if !res.Skipped || !res.Fallback || len(ep.bodies) != asked {
		t.Errorf("disabled router: %+v, asked %d more times", res, len(ep.bodies)-asked)
	}

	// Enabling alone keeps the count: one more error disables it again.
	if status, m := call(t, srv, "PATCH", fmt.Sprintf("/api/v2/callrouters/%d", r.ID), `{"enabled": true}`); status != 200 || m["enabled"] != true {
		t.Fatalf("enable: %d %v", status, m)
	}
	res, _ = srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	if !res.Disabled {
		t.Errorf("after enabling without reset, one more error should disable: %+v", res)
	}
	// The update limit: a second PATCH within 5 minutes is refused.
	if status, _ := call(t, srv, "PATCH", fmt.Sprintf("/api/v2/callrouters/%d", r.ID), `{"enabled": true, "reset_error_count": true}`); status != 429 {
		t.Errorf("second PATCH: %d; want 429", status)
	}
	srv.AdvanceClock(5 * time.Minute)
	if status, _ := call(t, srv, "PATCH", fmt.Sprintf("/api/v2/callrouters/%d", r.ID), `{"enabled": true, "reset_error_count": true}`); status != 200 {
		t.Errorf("PATCH after 5 minutes: %d", status)
	}
	if n := srv.RouterErrorCount(r.ID); n != 0 {
		t.Errorf("error count after reset = %d", n)
	}
	// Errors age out of the one-hour window.
	_, _ = srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	srv.AdvanceClock(61 * time.Minute)
	if n := srv.RouterErrorCount(r.ID); n != 0 {
		t.Errorf("error count an hour later = %d", n)
	}
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
	if err != nil || res.Fallback || res.TargetID != 31 || res.TargetType != "department" {
		t.Errorf("result = %+v, %v", res, err)
	}
	if _, err := srv.SimulateInboundCall(t.Context(), 1, "+16505550123", ""); err == nil {
		t.Error("unknown router: no error")
	}
	if _, err := srv.SimulateInboundCall(t.Context(), r.ID, "6505550123", ""); err == nil {
		t.Error("bad from: no error")
	}
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
	if status != 200 {
		t.Fatalf("call: %d %v", status, m)
	}
	var id int64 // REST ids are strings by default
	_, _ = fmt.Sscan(fmt.Sprint(m["call_id"]), &id)
	if err := srv.SetCallState(id, "connected"); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetCallState(id, "hangup"); err != nil {
		t.Fatal(err)
	}
	srv.FlushEvents()
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(states) != "[calling/outbound/user connected/outbound/user hangup/outbound/user]" {
		t.Errorf("states = %v", states)
	}
	for _, ct := range ctypes {
		if ct != "application/jwt" {
			t.Errorf("content type %q", ct)
		}
	}
	ds := srv.Deliveries()
	if len(ds) != 3 || ds[2].Status != 200 || !ds[2].Signed || ds[2].CallID != id || ds[2].State != "hangup" {
		t.Errorf("deliveries = %+v", ds)
	}
}
