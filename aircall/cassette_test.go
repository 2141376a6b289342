package aircall_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// cassetteAircall is built by hand from the documents, not recorded:
//   - GET /v1/users?per_page=20: the seed's response (meta total 9, count
//     9, page 1 of 20, null links) with its first user, id 2048 John Doe,
//     as shown; the seed elides the other eight ("..."), so they are filled
//     in with the user fields the reference (3.4) lists.
//   - POST /v1/calls/{id}/transfers with {"user_id": 2048}, answered 204
//     with no body (reference 3.3); the call id is made up.
const cassetteAircall = "../telephony/telephonytest/testdata/aircall.json"

func TestCassetteReplay(t *testing.T) {
	rp, err := telephonytest.NewReplayer(cassetteAircall)
	if err != nil {
		t.Fatal(err)
	}
	// No WithBaseURL: the default host, answered by the replayer.
	ac, err := aircall.New("cassette-id", "cassette-token", telephony.WithHTTPClient(rp.Client()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	var users []aircall.User
	for u, err := range ac.Users.List(ctx, &aircall.ListOptions{PerPage: 20}) {
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	if len(users) != 9 {
		t.Fatalf("%d users, want the 9 of meta.count", len(users))
	}
	if u := users[0]; u.ID != 2048 || u.Email != "john.doe@aircall.io" || u.Name != "John Doe" || !u.Available {
		t.Fatalf("user 0 = %+v", u)
	}
	if u := users[2]; u.ID != 2050 || u.Available || u.AvailabilityStatus != "unavailable" {
		t.Fatalf("user 2 = %+v", u)
	}

	if err := ac.Telephony().Transfer(ctx, "1234567", telephony.UserTarget("2048")); err != nil {
		t.Fatalf("transfer answered 204: %v", err)
	}

	// A request the cassette lacks fails clearly; a transfer is never
	// resent, so the replayer sees it once.
	err = ac.Calls.Transfer(ctx, 1234567, aircall.TransferRequest{TeamID: 7})
	if !errors.Is(err, telephonytest.ErrNotRecorded) || !strings.Contains(err.Error(), "POST /v1/calls/1234567/transfers") {
		t.Fatalf("unrecorded request: %v", err)
	}
	if unused := rp.Unused(); len(unused) != 0 {
		t.Fatalf("interactions never replayed: %+v", unused)
	}
}
