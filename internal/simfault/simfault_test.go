package simfault

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestQueueOrderAndTimes(t *testing.T) {
	var q Queue
	q.Inject(Fault{Method: "POST", Path: "/v1/calls", Status: 503, Times: 2})
	q.Inject(Fault{Status: 429})
	f := q.Take("GET", "/v1/users")
	require.NotNil(t, f, "GET matched nothing")
	assert.Equal(t, 429, f.Status, "GET matched %+v", f)
	for i := 0; i < 2; i++ {
		f := q.Take("POST", "/v1/calls/1/transfers")
		require.NotNil(t, f, "POST %d matched nothing", i)
		assert.Equal(t, 503, f.Status, "POST %d matched %+v", i, f)
	}
	assert.Nil(t, q.Take("POST", "/v1/calls"), "used-up fault applied again")
}
