package justcall_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// cassetteJustCall is built by hand from the documents, not recorded:
//   - POST /v2/calls/make: the seed's curl body and its "Successful
//     Response", verbatim;
//   - the same call from a number the account lacks: the seed's 404 row
//     ("from number not found in your account"), in the {status, message}
//     error shape the reference (1.7) reports;
//   - GET /v2.1/users: two users with every field of the v2.1 user object
//     (reference 1.4: available and on_call are "Yes"/"No" strings); agent
//     42 is the seed's agent_id. The envelope beyond data and
//     next_page_link is not documented.
const cassetteJustCall = "../telephony/telephonytest/testdata/justcall.json"

func TestCassetteReplay(t *testing.T) {
	rp, err := telephonytest.NewReplayer(cassetteJustCall)
	require.NoError(t, err)
	// No WithBaseURL: the default host, answered by the replayer.
	c, err := justcall.New("cassette-key", "cassette-secret", telephony.WithHTTPClient(rp.Client()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	tc := c.Telephony()
	ctx := t.Context()

	call, err := tc.Dial(ctx, telephony.CallRequest{From: "+14155551234", To: "+14155559876", AgentID: "42",
		CallbackURL: "https://yourapp.com/webhooks/call-status"})
	require.NoError(t, err)
	want := telephony.Call{ID: "call_8f3a2b1c", Provider: "justcall", From: "+14155551234", To: "+14155559876",
		AgentID: "42", Direction: telephony.DirectionOutbound, Status: telephony.StatusRinging}
	assert.Equal(t, want, *call, "Dial")

	_, err = tc.Dial(ctx, telephony.CallRequest{From: "+14155550000", To: "+14155559876"})
	assert.ErrorIs(t, err, telephony.ErrNotFound, "Dial from an unknown number")
	var te *telephony.Error
	if assert.ErrorAs(t, err, &te, "Dial from an unknown number") {
		assert.Equal(t, 404, te.StatusCode, "Dial from an unknown number: %v", err)
		assert.Equal(t, "from number not found in your account", te.Message, "Dial from an unknown number: %v", err)
	}

	var users []justcall.User
	for u, err := range c.Users.List(ctx, &justcall.ListUsersOptions{PerPage: justcall.MaxUsersPerPage}) {
		require.NoError(t, err)
		users = append(users, u)
	}
	require.Len(t, users, 2, "users")
	u := users[0]
	assert.Equal(t, int64(42), u.ID, "user 0 = %+v", u)
	assert.Equal(t, "jane.roe@example.com", u.Email, "user 0 = %+v", u)
	assert.Equal(t, "Jane Roe", u.Name, "user 0 = %+v", u)
	assert.True(t, u.Available, "user 0 = %+v", u)
	assert.False(t, u.OnCall, "user 0 = %+v", u)
	assert.Equal(t, "101", u.Extension, "user 0 = %+v", u)
	assert.Equal(t, "2024-01-15", u.CreatedAt, "user 0 = %+v", u)
	assert.Equal(t, `["+14155551234"]`, string(u.OwnedNumbers), "user 0 = %+v", u)
	u = users[1]
	assert.Equal(t, int64(43), u.ID, "user 1 = %+v", u)
	assert.False(t, u.Available, "user 1 = %+v", u)
	assert.Equal(t, "Out of working hours", u.UnavailabilityReason, "user 1 = %+v", u)
	assert.Equal(t, "Admin", u.Role, "user 1 = %+v", u)

	// A request the cassette lacks fails clearly, and is not retried into
	// something else.
	for _, err := range c.Users.List(ctx, &justcall.ListUsersOptions{PerPage: 10}) {
		assert.ErrorIs(t, err, telephonytest.ErrNotRecorded, "unrecorded request")
		assert.ErrorContains(t, err, "GET /v2.1/users", "unrecorded request")
		break
	}
	assert.Empty(t, rp.Unused(), "interactions never replayed")
}

// Recording real traffic (here the simulator's) leaves no credential in
// the file: not the API key or secret (sent raw as "key:secret"), not the
// callback token that Calls.Make puts in callback_url.
func TestCassetteRecordScrubsCredentials(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	users := sim.SeedUsers(2)
	cbToken, err := justcall.NewCallbackToken()
	require.NoError(t, err)
	// The callback token sits inside a URL in the JSON body, where no field
	// name marks it as secret: it must be given to the recorder.
	rec := telephonytest.NewRecorder(nil, justcalltest.APIKey, justcalltest.APISecret, cbToken)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()),
		telephony.WithHTTPClient(rec.Client()), telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	require.NoError(t, c.SetCallbackToken(cbToken))
	ctx := t.Context()
	_, err = c.Calls.Make(ctx, justcall.MakeCallRequest{From: users[0].Numbers[0], To: "+14155559876",
		CallbackURL: "http://127.0.0.1:1/cb"})
	require.NoError(t, err)
	n := 0
	for _, err := range c.Users.List(ctx, nil) {
		require.NoError(t, err)
		n++
	}
	path := filepath.Join(t.TempDir(), "justcall.json")
	require.NoError(t, rec.Save(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, secret := range []string{justcalltest.APIKey, justcalltest.APISecret, cbToken} {
		assert.NotContains(t, string(data), secret, "the cassette holds a credential %q", secret)
	}
	assert.Contains(t, string(data), `"Authorization": [`, "expected a redacted Authorization header")
	assert.Contains(t, string(data), telephonytest.Redacted, "expected a redacted Authorization header")
	t.Logf("recorded %d interactions (%d bytes), %d users listed, no credential in the file",
		len(rec.Cassette().Interactions), len(data), n)

	// The recording replays offline with any credentials.
	rp, err := telephonytest.NewReplayer(path, cbToken)
	require.NoError(t, err)
	c2, err := justcall.New("other-key", "other-secret", telephony.WithBaseURL(sim.URL()), telephony.WithHTTPClient(rp.Client()))
	require.NoError(t, err)
	require.NoError(t, c2.SetCallbackToken(cbToken))
	_, err = c2.Calls.Make(ctx, justcall.MakeCallRequest{From: users[0].Numbers[0], To: "+14155559876",
		CallbackURL: "http://127.0.0.1:1/cb"})
	assert.NoError(t, err, "replaying the recording")
}
