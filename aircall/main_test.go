package aircall_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newSim starts a simulator closed at the end of the test.
func newSim(t *testing.T) *aircalltest.Server {
	t.Helper()
	sim := aircalltest.NewServer()
	t.Cleanup(sim.Close)
	return sim
}

// newClient returns a client of sim with fast retries and no client-side
// rate limit unless opts say otherwise.
func newClient(t *testing.T, sim *aircalltest.Server, opts ...telephony.Option) *aircall.Client {
	t.Helper()
	all := append([]telephony.Option{
		telephony.WithBaseURL(sim.URL()),
		telephony.WithRetryBackoff(time.Millisecond, 10*time.Millisecond),
		telephony.WithRateLimit(rate.Inf, 1),
	}, opts...)
	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, all...)
	require.NoError(t, err)
	return c
}
