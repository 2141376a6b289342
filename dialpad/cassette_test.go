package dialpad_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	// No WithBaseURL: the default host, answered by the replayer.
	dp, err := dialpad.New("cassette-key", telephony.WithHTTPClient(rp.Client()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	ctx := t.Context()

	r, err := dp.CallRouters.Create(ctx, dialpad.CreateCallRouterRequest{
		Name: "Hello Router", RoutingURL: "https://yourroutingservice.com/routecall",
		OfficeID: 223456, DefaultTargetID: 123456, DefaultTargetType: "callcenter",
	})
	require.NoError(t, err)
	assert.Equal(t, int64(323456), r.ID, "router id")
	assert.Equal(t, int64(223456), r.OfficeID, "router office_id")
	assert.Equal(t, int64(12341234), r.DefaultTargetID, "router default_target_id")
	assert.Equal(t, "callcenter", r.DefaultTargetType, "router default_target_type")
	assert.True(t, r.Enabled, "router enabled: %+v", r)
	assert.Equal(t, "Hello Router", r.Name, "router name")
	assert.Equal(t, []string{"+14155550123"}, r.PhoneNumbers, "router phone_numbers")
	if assert.NotNil(t, r.Signature, "router signature") {
		assert.Equal(t, "jwt", r.Signature.Type, "signature type")
		assert.Equal(t, "HS256", r.Signature.Algo, "signature algo")
	}

	var users []telephony.User
	for u, err := range dp.Telephony().Users(ctx) {
		require.NoError(t, err)
		users = append(users, u)
	}
	want := []telephony.User{
		// is_available but not is_online (no active device): cannot take a call.
		{ID: "5835806903417907", Email: "bot@fuzz-ball.com", Name: "テÉst Bot", Available: false},
		{ID: "4335858969377504", Email: "test_contact@fuzz-ball.com", Name: "テÉst Bot", Available: false},
	}
	require.Len(t, users, len(want), "users = %+v", users)
	for i := range want {
		assert.Equal(t, want[i], users[i], "user %d", i)
	}

	// A request the cassette lacks fails clearly.
	_, err = dp.CallRouters.Get(ctx, 323456)
	require.ErrorIs(t, err, telephonytest.ErrNotRecorded, "unrecorded request")
	assert.ErrorContains(t, err, "GET /api/v2/callrouters/323456", "unrecorded request")
	assert.Empty(t, rp.Unused(), "interactions never replayed")
}
