package otel

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Through a real client against the simulator: one span per operation
// (the route template, never the id), a child per attempt, the provider's
// rate-limit state and the request's waits as attributes, and the call
// metrics.
func TestClientOperationThroughSimulator(t *testing.T) {
	h := newHarness(t)
	sim := aircalltest.NewServer()
	defer sim.Close()
	sim.SetRateLimit(60, time.Minute)
	u := sim.SeedUsers(1)[0]
	sim.InjectFault(aircalltest.Fault{Method: http.MethodGet, Path: "/v1/users/", Status: http.StatusServiceUnavailable})
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()),
		telephony.WithObserver(h.obs), telephony.WithRetryBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	_, err = ac.Users.Get(t.Context(), u.ID)
	require.NoError(t, err)

	spans := h.ended(t)
	op, ok := spans["GET /v1/users/{id}"]
	require.True(t, ok, "operation span named after the route template; got %v", keys(spans))
	a1, ok1 := spans["attempt 1"]
	a2, ok2 := spans["attempt 2"]
	require.True(t, ok1 && ok2, "a span per attempt; got %v", keys(spans))
	assert.Equal(t, op.SpanContext().SpanID(), a1.Parent().SpanID(), "attempt 1 is a child of the operation")
	assert.Equal(t, op.SpanContext().SpanID(), a2.Parent().SpanID(), "attempt 2 is a child of the operation")
	attrs := attrMap(op.Attributes())
	assert.Equal(t, "aircall", attrs[AttrProvider].AsString())
	assert.Equal(t, int64(2), attrs[AttrAttempts].AsInt64())
	assert.Equal(t, int64(200), attrs["http.response.status_code"].AsInt64())
	assert.Contains(t, attrs, AttrRateLimitRemaining, "rate-limit state recorded")
	assert.Contains(t, attrs, AttrRetryWaitMS)
	t.Logf("span %q: attempts=%d remaining=%d retry_wait_ms=%v", op.Name(), attrs[AttrAttempts].AsInt64(),
		attrs[AttrRateLimitRemaining].AsInt64(), attrs[AttrRetryWaitMS].Emit())
	rm := h.collect(t)
	assert.True(t, hasMetric(rm, MetricCallDuration), "call.duration recorded")
	assert.True(t, hasMetric(rm, MetricCallAttempts), "call.attempts recorded")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
