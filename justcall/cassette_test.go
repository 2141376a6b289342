package justcall_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	if err != nil {
		t.Fatal(err)
	}
	// No WithBaseURL: the default host, answered by the replayer.
	c, err := justcall.New("cassette-key", "cassette-secret", telephony.WithHTTPClient(rp.Client()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	tc := c.Telephony()
	ctx := t.Context()

	call, err := tc.Dial(ctx, telephony.CallRequest{From: "+14155551234", To: "+14155559876", AgentID: "42",
		CallbackURL: "https://yourapp.com/webhooks/call-status"})
	if err != nil {
		t.Fatal(err)
	}
	want := telephony.Call{ID: "call_8f3a2b1c", Provider: "justcall", From: "+14155551234", To: "+14155559876",
		AgentID: "42", Direction: telephony.DirectionOutbound, Status: telephony.StatusRinging}
	if *call != want {
		t.Fatalf("Dial = %+v, want %+v", *call, want)
	}

	_, err = tc.Dial(ctx, telephony.CallRequest{From: "+14155550000", To: "+14155559876"})
	var te *telephony.Error
	if !errors.Is(err, telephony.ErrNotFound) || !errors.As(err, &te) || te.StatusCode != 404 ||
		te.Message != "from number not found in your account" {
		t.Fatalf("Dial from an unknown number: %v", err)
	}

	var users []justcall.User
	for u, err := range c.Users.List(ctx, &justcall.ListUsersOptions{PerPage: justcall.MaxUsersPerPage}) {
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	if len(users) != 2 {
		t.Fatalf("%d users, want 2", len(users))
	}
	u := users[0]
	if u.ID != 42 || u.Email != "jane.roe@example.com" || u.Name != "Jane Roe" || !u.Available || u.OnCall ||
		u.Extension != "101" || u.CreatedAt != "2024-01-15" || string(u.OwnedNumbers) != `["+14155551234"]` {
		t.Fatalf("user 0 = %+v", u)
	}
	if u := users[1]; u.ID != 43 || u.Available || u.UnavailabilityReason != "Out of working hours" || u.Role != "Admin" {
		t.Fatalf("user 1 = %+v", u)
	}

	// A request the cassette lacks fails clearly, and is not retried into
	// something else.
	for _, err := range c.Users.List(ctx, &justcall.ListUsersOptions{PerPage: 10}) {
		if !errors.Is(err, telephonytest.ErrNotRecorded) || !strings.Contains(err.Error(), "GET /v2.1/users") {
			t.Fatalf("unrecorded request: %v", err)
		}
		break
	}
	if unused := rp.Unused(); len(unused) != 0 {
		t.Fatalf("interactions never replayed: %+v", unused)
	}
}

// Recording real traffic (here the simulator's) leaves no credential in
// the file: not the API key or secret (sent raw as "key:secret"), not the
// callback token that Calls.Make puts in callback_url.
func TestCassetteRecordScrubsCredentials(t *testing.T) {
	sim := justcalltest.NewServer()
	defer sim.Close()
	users := sim.SeedUsers(2)
	cbToken, err := justcall.NewCallbackToken()
	if err != nil {
		t.Fatal(err)
	}
	// The callback token sits inside a URL in the JSON body, where no field
	// name marks it as secret: it must be given to the recorder.
	rec := telephonytest.NewRecorder(nil, justcalltest.APIKey, justcalltest.APISecret, cbToken)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()),
		telephony.WithHTTPClient(rec.Client()), telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetCallbackToken(cbToken); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.Calls.Make(ctx, justcall.MakeCallRequest{From: users[0].Numbers[0], To: "+14155559876",
		CallbackURL: "http://127.0.0.1:1/cb"}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range c.Users.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	path := filepath.Join(t.TempDir(), "justcall.json")
	if err := rec.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{justcalltest.APIKey, justcalltest.APISecret, cbToken} {
		if strings.Contains(string(data), secret) {
			t.Fatalf("the cassette holds a credential %q:\n%s", secret, data)
		}
	}
	if !strings.Contains(string(data), `"Authorization": [`) || !strings.Contains(string(data), telephonytest.Redacted) {
		t.Fatalf("expected a redacted Authorization header:\n%s", data)
	}
	t.Logf("recorded %d interactions (%d bytes), %d users listed, no credential in the file",
		len(rec.Cassette().Interactions), len(data), n)

	// The recording replays offline with any credentials.
	rp, err := telephonytest.NewReplayer(path, cbToken)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := justcall.New("other-key", "other-secret", telephony.WithBaseURL(sim.URL()), telephony.WithHTTPClient(rp.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.SetCallbackToken(cbToken); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Calls.Make(ctx, justcall.MakeCallRequest{From: users[0].Numbers[0], To: "+14155559876",
		CallbackURL: "http://127.0.0.1:1/cb"}); err != nil {
		t.Fatalf("replaying the recording: %v", err)
	}
}
