package justcall_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

func usersFrom(t *testing.T, page string) ([]justcall.User, error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(page)) }))
	defer srv.Close()
	c, err := justcall.New("decode-key", "decode-secret", telephony.WithBaseURL(srv.URL),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond), telephony.WithRateLimit(rate.Inf, 1))
	require.NoError(t, err)
	var users []justcall.User
	for u, err := range c.Users.List(t.Context(), nil) {
		if err != nil {
			return users, err
		}
		users = append(users, u)
	}
	return users, nil
}

// The documented form decodes on the fast path; other forms (ids as
// strings, availability as booleans or other words) decode as before, and
// an availability that is no boolean word is still an error.
func TestUsersListDecodeForms(t *testing.T) {
	users, err := usersFrom(t, `{"data":[{"id":7,"email":"a@example.com","available":"Yes","on_call":"no","extension":"101"}],"next_page_link":null}`)
	require.NoError(t, err)
	require.Len(t, users, 1)
	assert.Equal(t, justcall.User{ID: 7, Email: "a@example.com", Available: true, Extension: "101"}, users[0])

	users, err = usersFrom(t, `{"data":[{"id":"8","available":true,"on_call":"Y","extension":102}],"next_page_link":""}`)
	require.NoError(t, err)
	require.Len(t, users, 1)
	assert.Equal(t, justcall.User{ID: 8, Available: true, OnCall: true, Extension: "102"}, users[0])

	_, err = usersFrom(t, `{"data":[{"id":9,"available":"maybe"}],"next_page_link":null}`)
	require.Error(t, err)
	assert.ErrorIs(t, err, telephony.ErrBadResponse)
}
