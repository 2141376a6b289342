package justcall_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newSim starts a simulator with three agents, closed at the end of the test.
func newSim(t *testing.T) *justcalltest.Server {
	t.Helper()
	sim := justcalltest.NewServer()
	t.Cleanup(sim.Close)
	sim.SeedUsers(3)
	return sim
}

// newClient returns a client of sim with fast retries.
func newClient(t *testing.T, sim *justcalltest.Server, opts ...telephony.Option) *justcall.Client {
	t.Helper()
	opts = append([]telephony.Option{
		telephony.WithBaseURL(sim.URL()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
	}, opts...)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, opts...)
	require.NoError(t, err)
	return c
}
