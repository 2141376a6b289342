package benchmarks_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newHTTPClient returns a client with its own pool, so that the library and
// the bare baseline never share connections, and enough idle connections
// per host for the concurrent loopback runs. Close it with closeIdle.
func newHTTPClient(idle int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = idle
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func closeIdle(c *http.Client) { c.Transport.(*http.Transport).CloseIdleConnections() }

// percentile returns the p-th percentile (0..100) of d by nearest rank; it
// sorts d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(float64(len(d))*p/100+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}
