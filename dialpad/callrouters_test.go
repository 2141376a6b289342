package dialpad_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

const testSecret = "0123456789abcdef0123456789abcdef" // 32 characters

func validRouter() dialpad.CreateCallRouterRequest {
	return dialpad.CreateCallRouterRequest{
		Name: "Hello Router", RoutingURL: "https://yourroutingservice.com/routecall",
		OfficeID: 223456, DefaultTargetID: 123456, DefaultTargetType: dialpad.TargetTypeCallCenter,
	}
}

// lastBody decodes the JSON body of the last request with this method.
func lastBody(t *testing.T, srv *dialpadtest.Server, method string) map[string]any {
	t.Helper()
	reqs := srv.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method {
			var m map[string]any
			ok(t, json.Unmarshal(reqs[i].Body, &m))
			return m
		}
	}
	require.Failf(t, "no request", "no %s request", method)
	return nil
}

func TestCallRouterCreateGet(t *testing.T) {
	for _, stringIDs := range []bool{false, true} {
		t.Run(fmt.Sprintf("stringIDs=%v", stringIDs), func(t *testing.T) {
			c, srv := newTestClient(t)
			srv.SetStringIDs(stringIDs)
			req := validRouter()
			req.Secret = testSecret
			r, err := c.CallRouters.Create(t.Context(), req)
			ok(t, err)
			require.Positive(t, r.ID, "created router = %+v", r)
			assert.Equal(t, req.Name, r.Name, "created router name")
			assert.Equal(t, req.RoutingURL, r.RoutingURL, "created router routing_url")
			assert.Equal(t, int64(223456), r.OfficeID, "created router office_id")
			assert.Equal(t, int64(123456), r.DefaultTargetID, "created router default_target_id")
			assert.Equal(t, "callcenter", r.DefaultTargetType, "created router default_target_type")
			assert.True(t, r.Enabled, "created router = %+v; want enabled", r)
			require.NotNil(t, r.Signature, "signature")
			assert.Equal(t, "jwt", r.Signature.Type, "signature type")
			assert.Equal(t, "HS256", r.Signature.Algo, "signature algo")
			assert.Equal(t, testSecret, r.Signature.Secret, "signature secret")
			assert.NotContains(t, fmt.Sprint(*r.Signature), testSecret, "printing the signature leaks the secret")
			// Ids go out as JSON numbers.
			body := lastBody(t, srv, "POST")
			for _, k := range []string{"office_id", "default_target_id"} {
				assert.IsType(t, float64(0), body[k], "%s sent as %T; want a JSON number", k, body[k])
			}
			got, err := c.CallRouters.Get(t.Context(), r.ID)
			ok(t, err)
			eq(t, "Get id", got.ID, r.ID)
			eq(t, "Get office", got.OfficeID, int64(223456))
		})
	}
}

func TestCallRouterWithoutSecretHasNoSignature(t *testing.T) {
	c, _ := newTestClient(t)
	r, err := c.CallRouters.Create(t.Context(), validRouter())
	ok(t, err)
	assert.Nil(t, r.Signature, "signature = %v; want nil for {}", r.Signature)
}

func TestCallRouterCreateValidation(t *testing.T) {
	c, srv := newTestClient(t)
	cases := map[string]func(*dialpad.CreateCallRouterRequest){
		"no name":          func(r *dialpad.CreateCallRouterRequest) { r.Name = "" },
		"two-line name":    func(r *dialpad.CreateCallRouterRequest) { r.Name = "a\nb" },
		"no url":           func(r *dialpad.CreateCallRouterRequest) { r.RoutingURL = "" },
		"relative url":     func(r *dialpad.CreateCallRouterRequest) { r.RoutingURL = "/route" },
		"ftp url":          func(r *dialpad.CreateCallRouterRequest) { r.RoutingURL = "ftp://example.com/x" },
		"url with creds":   func(r *dialpad.CreateCallRouterRequest) { r.RoutingURL = "https://u:p@example.com/x" },
		"no office":        func(r *dialpad.CreateCallRouterRequest) { r.OfficeID = 0 },
		"no target id":     func(r *dialpad.CreateCallRouterRequest) { r.DefaultTargetID = 0 },
		"no target type":   func(r *dialpad.CreateCallRouterRequest) { r.DefaultTargetType = "" },
		"bad target type":  func(r *dialpad.CreateCallRouterRequest) { r.DefaultTargetType = "team" },
		"31-char secret":   func(r *dialpad.CreateCallRouterRequest) { r.Secret = testSecret[:31] },
		"multiline secret": func(r *dialpad.CreateCallRouterRequest) { r.Secret = testSecret + "\n" },
	}
	for name, mutate := range cases {
		req := validRouter()
		mutate(&req)
		_, err := c.CallRouters.Create(t.Context(), req)
		if !assert.Error(t, err, "%s: accepted", name) {
			continue
		}
		isErr(t, err, telephony.ErrInvalidRequest)
		assert.NotContains(t, err.Error(), testSecret[:31], "%s: error leaks the secret", name)
	}
	eq(t, "requests sent for invalid routers", srv.Count("", "/"), 0)
}

func TestCallRouterList(t *testing.T) {
	c, srv := newTestClient(t)
	for i := range 25 {
		office := int64(1)
		if i%5 == 0 {
			office = 2
		}
		srv.AddRouter(dialpadtest.Router{Name: fmt.Sprintf("r%d", i), RoutingURL: "https://example.com/r", OfficeID: office,
			DefaultTargetID: 9, DefaultTargetType: "office", Enabled: true})
	}
	seen := map[int64]bool{}
	for r, err := range c.CallRouters.List(t.Context(), nil) {
		ok(t, err)
		seen[r.ID] = true
	}
	eq(t, "routers listed", len(seen), 25)
	eq(t, "pages fetched", srv.Count("GET", "/api/v2/callrouters"), 3)

	n := 0
	for r, err := range c.CallRouters.List(t.Context(), &dialpad.ListCallRoutersOptions{OfficeID: 2}) {
		ok(t, err)
		eq(t, "office", r.OfficeID, int64(2))
		n++
	}
	eq(t, "routers of office 2", n, 5)

	// Breaking out stops fetching.
	before := srv.Count("GET", "/api/v2/callrouters")
	for range c.CallRouters.List(t.Context(), nil) {
		break
	}
	eq(t, "pages fetched after break", srv.Count("GET", "/api/v2/callrouters")-before, 1)
}

func TestCallRouterUpdateLimitedClientSide(t *testing.T) {
	c, srv := newTestClient(t)
	r, err := c.CallRouters.Create(t.Context(), validRouter())
	ok(t, err)
	other, err := c.CallRouters.Create(t.Context(), validRouter())
	ok(t, err)

	up, err := c.CallRouters.Update(t.Context(), r.ID, dialpad.UpdateCallRouterRequest{Name: ptr("Renamed"), DefaultTargetID: ptr(int64(77))})
	ok(t, err)
	eq(t, "name", up.Name, "Renamed")
	eq(t, "default target", up.DefaultTargetID, int64(77))
	eq(t, "routing url unchanged", up.RoutingURL, r.RoutingURL)
	body := lastBody(t, srv, "PATCH")
	assert.Equal(t, map[string]any{"name": "Renamed", "default_target_id": float64(77)}, body,
		"PATCH body; want only name and default_target_id")

	start := time.Now()
	_, err = c.CallRouters.Update(t.Context(), r.ID, dialpad.UpdateCallRouterRequest{Name: ptr("Again")})
	isErr(t, err, telephony.ErrRateLimited)
	te := asTelephony(t, err)
	t.Logf("second update within 5 min: failed in %v, RetryAfter=%v: %v", time.Since(start).Round(time.Microsecond), te.RetryAfter.Round(time.Second), err)
	assert.GreaterOrEqual(t, te.RetryAfter, 4*time.Minute, "RetryAfter = %v; want about 5m", te.RetryAfter)
	assert.LessOrEqual(t, te.RetryAfter, 5*time.Minute, "RetryAfter = %v; want about 5m", te.RetryAfter)
	assert.ErrorContains(t, err, "wait", "the error does not say how long to wait")
	eq(t, "PATCH requests", srv.Count("PATCH", "/api/v2/callrouters/"), 1)

	// The limit is per router.
	_, err = c.CallRouters.Update(t.Context(), other.ID, dialpad.UpdateCallRouterRequest{Enabled: ptr(false)})
	ok(t, err)
	got, _ := srv.Router(other.ID)
	eq(t, "other router enabled", got.Enabled, false)
}

func TestCallRouterUpdateValidation(t *testing.T) {
	c, srv := newTestClient(t)
	for name, req := range map[string]dialpad.UpdateCallRouterRequest{
		"nothing":      {},
		"empty name":   {Name: ptr("")},
		"bad url":      {RoutingURL: ptr("example.com/x")},
		"short secret": {Secret: ptr("short")},
		"bad type":     {DefaultTargetType: ptr("nobody")},
		"zero office":  {OfficeID: ptr(int64(0))},
		"negative tgt": {DefaultTargetID: ptr(int64(-1))},
	} {
		_, err := c.CallRouters.Update(t.Context(), 5, req)
		assert.ErrorContains(t, err, "invalid request", name)
	}
	_, err := c.CallRouters.Update(t.Context(), 0, dialpad.UpdateCallRouterRequest{Name: ptr("x")})
	isErr(t, err, telephony.ErrInvalidRequest)
	eq(t, "requests", srv.Count("", "/"), 0)
	// Validation failures do not use up the router's update slot.
	srv.AddRouter(dialpadtest.Router{ID: 5, Name: "five", RoutingURL: "https://e.com/", OfficeID: 1, DefaultTargetID: 1, DefaultTargetType: "user"})
	_, err = c.CallRouters.Update(t.Context(), 5, dialpad.UpdateCallRouterRequest{Name: ptr("ok")})
	ok(t, err)
}

// Reenable brings back a router Dialpad disabled, with one PATCH that also
// resets the error count.
func TestCallRouterReenable(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SetRoutingTimeout(time.Second)
	r, err := c.CallRouters.Create(t.Context(), dialpad.CreateCallRouterRequest{
		Name: "broken", RoutingURL: srv.URL() + "/nowhere", OfficeID: 1, DefaultTargetID: 2, DefaultTargetType: "office"})
	ok(t, err)
	for range 11 {
		_, err := srv.SimulateInboundCall(t.Context(), r.ID, "+14155550111", "")
		ok(t, err)
	}
	got, err := c.CallRouters.Get(t.Context(), r.ID)
	ok(t, err)
	require.False(t, got.Enabled, "router still enabled after 11 routing errors")
	t.Logf("router disabled after %d errors", srv.RouterErrorCount(r.ID))

	back, err := c.CallRouters.Reenable(t.Context(), r.ID)
	ok(t, err)
	eq(t, "enabled", back.Enabled, true)
	body := lastBody(t, srv, "PATCH")
	assert.Equal(t, map[string]any{"enabled": true, "reset_error_count": true}, body,
		"PATCH body; want enabled and reset_error_count true")
	eq(t, "error count after Reenable", srv.RouterErrorCount(r.ID), 0)
	// One more error does not disable it again.
	_, err = srv.SimulateInboundCall(t.Context(), r.ID, "+14155550111", "")
	ok(t, err)
	sr, _ := srv.Router(r.ID)
	eq(t, "enabled after one more error", sr.Enabled, true)
	// Reenable is an update: the 5-minute limit applies.
	_, err = c.CallRouters.Reenable(t.Context(), r.ID)
	isErr(t, err, telephony.ErrRateLimited)
}

func TestCallRouterDelete(t *testing.T) {
	c, _ := newTestClient(t)
	r, err := c.CallRouters.Create(t.Context(), validRouter())
	ok(t, err)
	_, err = c.CallRouters.AssignNumber(t.Context(), r.ID, dialpad.AssignNumberRequest{Number: "+14155551005"})
	ok(t, err)
	ok(t, c.CallRouters.Delete(t.Context(), r.ID))
	_, err = c.CallRouters.Get(t.Context(), r.ID)
	isErr(t, err, telephony.ErrNotFound)
	isErr(t, c.CallRouters.Delete(t.Context(), r.ID), telephony.ErrNotFound)
	// The number went back to the pool: another router can take it.
	r2, err := c.CallRouters.Create(t.Context(), validRouter())
	ok(t, err)
	_, err = c.CallRouters.AssignNumber(t.Context(), r2.ID, dialpad.AssignNumberRequest{Number: "+14155551005"})
	ok(t, err)
}

func TestCallRouterAssignNumber(t *testing.T) {
	c, srv := newTestClient(t)
	srv.SetStringIDs(true)
	r, err := c.CallRouters.Create(t.Context(), validRouter())
	ok(t, err)
	n, err := c.CallRouters.AssignNumber(t.Context(), r.ID, dialpad.AssignNumberRequest{})
	ok(t, err)
	assert.NotEmpty(t, n.Number, "number = %+v", n)
	assert.Equal(t, r.ID, n.TargetID, "number target_id")
	assert.Equal(t, "callrouter", n.TargetType, "number target_type")
	assert.Equal(t, "call_router", n.Status, "number status")
	assert.Equal(t, r.OfficeID, n.OfficeID, "number office_id")
	n2, err := c.CallRouters.AssignNumber(t.Context(), r.ID, dialpad.AssignNumberRequest{AreaCode: "212", Primary: ptr(false)})
	ok(t, err)
	eq(t, "area code", n2.AreaCode, "212")
	got, err := c.CallRouters.Get(t.Context(), r.ID)
	ok(t, err)
	if assert.Len(t, got.PhoneNumbers, 2, "phone numbers") {
		assert.Equal(t, n.Number, got.PhoneNumbers[0], "phone numbers = %v; want primary %s first", got.PhoneNumbers, n.Number)
	}
	// A number already assigned is a conflict.
	_, err = c.CallRouters.AssignNumber(t.Context(), r.ID, dialpad.AssignNumberRequest{Number: n.Number})
	isErr(t, err, telephony.ErrConflict)
	// Validation before sending.
	before := srv.Count("", "/")
	_, err = c.CallRouters.AssignNumber(t.Context(), r.ID, dialpad.AssignNumberRequest{Number: "415-555-1000"})
	isErr(t, err, telephony.ErrInvalidRequest)
	_, err = c.CallRouters.AssignNumber(t.Context(), r.ID, dialpad.AssignNumberRequest{AreaCode: "4x5"})
	isErr(t, err, telephony.ErrInvalidRequest)
	eq(t, "requests for invalid numbers", srv.Count("", "/")-before, 0)
}

// The seed and Dialpad's examples send ids as strings, the OpenAPI as
// integers; both decode, and ids encode as numbers.
func TestCallRouterJSON(t *testing.T) {
	seed := `{"id": "5165402724715258", "name": "Test Router", "routing_url": "https://example.ca/routingapi",
	  "office_id": "6422934115149452", "default_target_id": "5835806903417907", "default_target_type": "user",
	  "enabled": true, "phone_numbers": ["+14155551005"], "signature": {"type": "jwt", "algo": "HS256", "secret": "s"}}`
	var r dialpad.CallRouter
	ok(t, json.Unmarshal([]byte(seed), &r))
	eq(t, "id", r.ID, int64(5165402724715258))
	eq(t, "office", r.OfficeID, int64(6422934115149452))
	eq(t, "target", r.DefaultTargetID, int64(5835806903417907))
	out, err := json.Marshal(r)
	ok(t, err)
	assert.Contains(t, string(out), `"id":5165402724715258`, "want the id as a number")
	var back dialpad.CallRouter
	ok(t, json.Unmarshal(out, &back))
	eq(t, "round trip", fmt.Sprint(back), fmt.Sprint(r))

	for _, bad := range []string{`{"id": "12a"}`, `{"office_id": 1.5}`, `{"id": true}`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &r), "%s decoded without error", bad)
	}
}

// FuzzCallRouterJSON: decoding never panics, and whatever decodes survives
// an encode/decode round trip unchanged.
func FuzzCallRouterJSON(f *testing.F) {
	f.Add(`{"id": "5165402724715258", "office_id": "6422934115149452", "default_target_id": 12, "enabled": true, "signature": {}}`)
	f.Add(`{"id": 1, "name": "n", "routing_url": "https://e/x", "phone_numbers": ["+14155551005"], "signature": {"type":"jwt","algo":"HS256","secret":"s"}}`)
	f.Add(`{"id": null, "office_id": ""}`)
	f.Add(`{"id": "-9223372036854775808"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		var r dialpad.CallRouter
		if json.Unmarshal([]byte(in), &r) != nil {
			return
		}
		out, err := json.Marshal(r)
		require.NoError(t, err, "encoding %+v", r)
		var back dialpad.CallRouter
		require.NoError(t, json.Unmarshal(out, &back), "decoding our own %s", out)
		require.Equal(t, fmt.Sprintf("%+v %v", r, r.Signature), fmt.Sprintf("%+v %v", back, back.Signature),
			"round trip changed %+v into %+v", r, back)
	})
}

// An update Dialpad refused (here a 400) did nothing, so it does not use up
// the router's one update per 5 minutes: a corrected update goes through.
func TestRefusedUpdateKeepsTheSlot(t *testing.T) {
	c, srv := newTestClient(t)
	r, err := c.CallRouters.Create(t.Context(), validRouter())
	ok(t, err)
	srv.InjectFault(dialpadtest.Fault{Method: "PATCH", Status: 400})
	_, err = c.CallRouters.Update(t.Context(), r.ID, dialpad.UpdateCallRouterRequest{Name: ptr("Refused")})
	require.ErrorIs(t, err, telephony.ErrInvalidRequest, "injected 400")
	_, err = c.CallRouters.Reenable(t.Context(), r.ID)
	require.NoError(t, err, "update after a refused one")
	_, err = c.CallRouters.Update(t.Context(), r.ID, dialpad.UpdateCallRouterRequest{Name: ptr("Third")})
	require.ErrorIs(t, err, telephony.ErrRateLimited, "the accepted update must use the slot")
	var none **dialpad.Client
	assert.False(t, c.Telephony().As(none), "As(typed nil) = true")
}

// A DELETE whose answer was lost (a 503 after Dialpad deleted the router)
// is retried; the retry's 404 means the router is gone, as asked.
func TestDeleteRetried404IsSuccess(t *testing.T) {
	c, srv := newTestClient(t)
	r, err := c.CallRouters.Create(t.Context(), validRouter())
	ok(t, err)
	// The first DELETE is carried out but answered 503 by a proxy; the
	// simulator cannot do both, so the router is deleted first.
	ok(t, c.CallRouters.Delete(t.Context(), r.ID))
	srv.InjectFault(dialpadtest.Fault{Method: "DELETE", Status: 503})
	require.NoError(t, c.CallRouters.Delete(t.Context(), r.ID), "retried delete answered 404")
	assert.ErrorIs(t, c.CallRouters.Delete(t.Context(), r.ID), telephony.ErrNotFound, "a first-attempt 404 is still ErrNotFound")
}
