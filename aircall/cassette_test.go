package aircall_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	require.NoError(t, err)
	// No WithBaseURL: the default host, answered by the replayer.
	ac, err := aircall.New("cassette-id", "cassette-token", telephony.WithHTTPClient(rp.Client()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	ctx := t.Context()

	var users []aircall.User
	for u, err := range ac.Users.List(ctx, &aircall.ListOptions{PerPage: 20}) {
		require.NoError(t, err)
		users = append(users, u)
	}
	require.Len(t, users, 9, "users, want the 9 of meta.count")
	u := users[0]
	assert.Equal(t, int64(2048), u.ID, "user 0 = %+v", u)
	assert.Equal(t, "john.doe@aircall.io", u.Email, "user 0 = %+v", u)
	assert.Equal(t, "John Doe", u.Name, "user 0 = %+v", u)
	assert.True(t, u.Available, "user 0 = %+v", u)
	u = users[2]
	assert.Equal(t, int64(2050), u.ID, "user 2 = %+v", u)
	assert.False(t, u.Available, "user 2 = %+v", u)
	assert.Equal(t, "unavailable", u.AvailabilityStatus, "user 2 = %+v", u)

	assert.NoError(t, ac.Telephony().Transfer(ctx, "1234567", telephony.UserTarget("2048")), "transfer answered 204")

	// A request the cassette lacks fails clearly; a transfer is never
	// resent, so the replayer sees it once.
	err = ac.Calls.Transfer(ctx, 1234567, aircall.TransferRequest{TeamID: 7})
	assert.ErrorIs(t, err, telephonytest.ErrNotRecorded, "unrecorded request")
	assert.ErrorContains(t, err, "POST /v1/calls/1234567/transfers", "unrecorded request")
	assert.Empty(t, rp.Unused(), "interactions never replayed")
}
