package dialpad_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/telephonytest"
)

// cassetteDialpad is built by hand from the documents, not recorded:
//   - POST /api/v2/callrouters: the seed's request example (its ids sent as
//     numbers, as this package encodes them) and the seed's success
//     response with its curly quotes made straight and its ids left as
//     strings. The seed's values are placeholders ("generated id",
//     "office_id", "e164 number"); they are replaced by the numeric strings
//     the seed uses elsewhere: id "323456" (its assign_number URL), office
//     "223456" (its request), and a real number. default_target_id stays
//     "12341234" as the seed's response shows it, although its request sent
//     123456. The signature's secret is REDACTED, as a Recorder writes it.
//   - GET /api/v2/users: the OpenAPI spec's users.list example, verbatim
//     (string ids, two items, no cursor).
const cassetteDialpad = "../telephony/telephonytest/testdata/dialpad.json"

func TestCassetteReplay(t *testing.T) {
	rp, err := telephonytest.NewReplayer(cassetteDialpad)
	if err != nil {
		t.Fatal(err)
	}
	// No WithBaseURL: the default host, answered by the replayer.
	dp, err := dialpad.New("cassette-key", telephony.WithHTTPClient(rp.Client()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	r, err := dp.CallRouters.Create(ctx, dialpad.CreateCallRouterRequest{
		Name: "Hello Router", RoutingURL: "https://yourroutingservice.com/routecall",
		OfficeID: 223456, DefaultTargetID: 123456, DefaultTargetType: "callcenter",
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != 323456 || r.OfficeID != 223456 || r.DefaultTargetID != 12341234 || r.DefaultTargetType != "callcenter" ||
		!r.Enabled || r.Name != "Hello Router" || len(r.PhoneNumbers) != 1 || r.PhoneNumbers[0] != "+14155550123" ||
		r.Signature == nil || r.Signature.Type != "jwt" || r.Signature.Algo != "HS256" {
		t.Fatalf("router = %+v", r)
	}

	var users []telephony.User
	for u, err := range dp.Telephony().Users(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	want := []telephony.User{
		// is_available but not is_online (no active device): cannot take a call.
		{ID: "5835806903417907", Email: "bot@fuzz-ball.com", Name: "テÉst Bot", Available: false},
		{ID: "4335858969377504", Email: "test_contact@fuzz-ball.com", Name: "テÉst Bot", Available: false},
	}
	if len(users) != len(want) {
		t.Fatalf("users = %+v", users)
	}
	for i := range want {
		if users[i] != want[i] {
			t.Errorf("user %d = %+v, want %+v", i, users[i], want[i])
		}
	}

	// A request the cassette lacks fails clearly.
	_, err = dp.CallRouters.Get(ctx, 323456)
	if !errors.Is(err, telephonytest.ErrNotRecorded) || !strings.Contains(err.Error(), "GET /api/v2/callrouters/323456") {
		t.Fatalf("unrecorded request: %v", err)
	}
	if unused := rp.Unused(); len(unused) != 0 {
		t.Fatalf("interactions never replayed: %+v", unused)
	}
}
