package dialpad_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// TestMain checks every test of the package (internal and external) for
// leaked goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestClient starts a simulator and a client pointed at it, with fast
// retries.
func newTestClient(t testing.TB, opts ...telephony.Option) (*dialpad.Client, *dialpadtest.Server) {
	t.Helper()
	srv := dialpadtest.NewServer()
	t.Cleanup(srv.Close)
	base := []telephony.Option{
		telephony.WithBaseURL(srv.URL()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
	}
	c, err := dialpad.New(dialpadtest.APIKey, append(base, opts...)...)
	require.NoError(t, err)
	return c, srv
}

func ptr[T any](v T) *T { return &v }

// ok fails the test at once on an error.
func ok(t testing.TB, err error) {
	t.Helper()
	require.NoError(t, err)
}

// isErr fails the test unless errors.Is(err, target).
func isErr(t testing.TB, err, target error) {
	t.Helper()
	require.ErrorIs(t, err, target)
}

// asTelephony returns err as a *telephony.Error or fails.
func asTelephony(t testing.TB, err error) *telephony.Error {
	t.Helper()
	var te *telephony.Error
	require.ErrorAs(t, err, &te, "error %v (%T) is not a *telephony.Error", err, err)
	return te
}

func eq[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	assert.Equal(t, want, got, what)
}
