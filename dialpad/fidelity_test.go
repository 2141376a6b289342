package dialpad_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// fidelityGet fetches path from the simulator with the API key and returns
// the decoded JSON answer.
func fidelityGet(t *testing.T, sim *dialpadtest.Server, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, sim.URL()+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+dialpadtest.APIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// TestSimulatorRESTIDsAreStrings: Dialpad's REST answers carry int64 ids as
// strings (every example in the API reference), call events as numbers.
// The simulator does the same by default, SetIDsAsNumbers switches REST to
// numbers, and the client reads both.
func TestSimulatorRESTIDsAreStrings(t *testing.T) {
	c, sim := newTestClient(t)
	agent := sim.SeedUsers(1)[0]

	var mu sync.Mutex
	var claims []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if json.NewDecoder(r.Body).Decode(&m) == nil {
			mu.Lock()
			claims = append(claims, m)
			mu.Unlock()
		}
	}))
	t.Cleanup(hook.Close)
	sim.AddWebhook(hook.URL, "")

	users := fidelityGet(t, sim, "/api/v2/users")["items"].([]any)
	require.Len(t, users, 1)
	u := users[0].(map[string]any)
	assert.Equal(t, strconv.FormatInt(agent.ID, 10), u["id"], "REST: id is a string")
	assert.IsType(t, "", u["office_id"], "REST: office_id is a string")

	call, err := c.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: agent.ID})
	require.NoError(t, err, "the client reads a string call_id")
	sim.FlushEvents()
	mu.Lock()
	require.Len(t, claims, 1)
	assert.Equal(t, float64(call.CallID), claims[0]["call_id"], "events: call_id is a number")
	mu.Unlock()

	sim.SetIDsAsNumbers(true)
	u = fidelityGet(t, sim, "/api/v2/users")["items"].([]any)[0].(map[string]any)
	assert.Equal(t, float64(agent.ID), u["id"], "SetIDsAsNumbers: id is a number")
	var listed []dialpad.User
	for u, err := range c.Users.List(t.Context(), nil) {
		require.NoError(t, err)
		listed = append(listed, u)
	}
	require.Len(t, listed, 1)
	assert.Equal(t, agent.ID, listed[0].ID, "the client reads a numeric id")
}

// TestRoutingAnswerIsTheDocumentedOne: the routing answer holds target_id
// and target_type only, as Dialpad's routing guide documents it;
// RoutingOptions.SendAction adds "action":"route".
func TestRoutingAnswerIsTheDocumentedOne(t *testing.T) {
	_, sim := newTestClient(t)
	agent := sim.SeedUsers(1)[0]
	for _, sendAction := range []bool{false, true} {
		h, err := dialpad.NewRoutingHandler(func(context.Context, telephony.InboundCall) (telephony.Target, error) {
			return telephony.UserTarget(strconv.FormatInt(agent.ID, 10)), nil
		}, dialpad.RoutingOptions{Secret: testSecret, Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: "9000"},
			SendAction: sendAction})
		require.NoError(t, err)
		var mu sync.Mutex
		var answers []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			mu.Lock()
			answers = append(answers, rec.Body.String())
			mu.Unlock()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = io.Copy(w, rec.Body)
		}))
		router := sim.AddRouter(dialpadtest.Router{Name: "Support", RoutingURL: srv.URL, OfficeID: dialpadtest.OfficeID,
			DefaultTargetID: 9000, DefaultTargetType: "callcenter", Enabled: true, Secret: testSecret,
			PhoneNumbers: []string{"+14155550199"}})
		res, err := sim.SimulateInboundCall(t.Context(), router.ID, "+14155550123", "")
		require.NoError(t, err)
		srv.Close()
		require.NoError(t, h.Close(t.Context()))

		assert.NoError(t, res.Err)
		assert.Equal(t, agent.ID, res.TargetID, "SendAction=%v: Dialpad routed to the agent", sendAction)
		require.Len(t, answers, 1)
		var keys []string
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(answers[0]), &m))
		for k := range m {
			keys = append(keys, k)
		}
		want := []string{"target_id", "target_type"}
		if sendAction {
			want = append(want, "action")
			assert.Equal(t, "route", m["action"])
		}
		assert.ElementsMatch(t, want, keys, "SendAction=%v: answer %s", sendAction, answers[0])
	}
}

// TestPortableUsersAsksForActiveUsers: the portable Users sends
// state=active rather than rely on an undocumented default.
func TestPortableUsersAsksForActiveUsers(t *testing.T) {
	c, sim := newTestClient(t)
	sim.SeedUsers(2)
	sim.AddUser(dialpadtest.User{FirstName: "Gone", LastName: "Agent", Email: "gone@example.com", State: "suspended"})
	var emails []string
	for u, err := range c.Telephony().Users(t.Context()) {
		require.NoError(t, err)
		emails = append(emails, u.Email)
	}
	assert.Equal(t, []string{"agent1@example.com", "agent2@example.com"}, emails)
	var queries []string
	for _, r := range sim.Requests() {
		if r.Path == "/api/v2/users" {
			queries = append(queries, r.Query)
		}
	}
	require.NotEmpty(t, queries)
	for _, q := range queries {
		assert.True(t, strings.Contains(q, "state=active"), "query %q names the state", q)
	}
}
