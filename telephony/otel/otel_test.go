package otel

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	otelapi "go.opentelemetry.io/otel"
	otelattr "go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/switchboard-go/switchboard/telephony"
)

// harness is an Observer on SDK providers with in-memory exporters.
type harness struct {
	obs    *Observer
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	obs, err := New(Options{TracerProvider: tp, MeterProvider: mp})
	require.NoError(t, err)
	require.NotNil(t, obs)
	return &harness{obs: obs, spans: rec, tp: tp, reader: reader}
}

func (h *harness) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(context.Background(), &rm))
	return rm
}

// ended returns the ended spans by name; names must be unique.
func (h *harness) ended(t *testing.T) map[string]sdktrace.ReadOnlySpan {
	t.Helper()
	m := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range h.spans.Ended() {
		require.NotContains(t, m, s.Name(), "two spans named %q", s.Name())
		m[s.Name()] = s
	}
	return m
}

func findMetric(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				assert.Equal(t, ScopeName, sm.Scope.Name)
				return m
			}
		}
	}
	require.Failf(t, "metric not found", "%s", name)
	return metricdata.Metrics{}
}

func hasMetric(rm metricdata.ResourceMetrics, name string) bool {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return true
			}
		}
	}
	return false
}

func set(kvs ...otelattr.KeyValue) otelattr.Set { return otelattr.NewSet(kvs...) }

func sumPoint(t *testing.T, m metricdata.Metrics, attrs otelattr.Set) (int64, bool) {
	t.Helper()
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T, not an int64 sum", m.Name, m.Data)
	assert.True(t, sum.IsMonotonic, m.Name)
	for _, dp := range sum.DataPoints {
		if dp.Attributes.Equals(&attrs) {
			return dp.Value, true
		}
	}
	return 0, false
}

func floatHist(t *testing.T, m metricdata.Metrics, attrs otelattr.Set) (metricdata.HistogramDataPoint[float64], bool) {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is a %T, not a float64 histogram", m.Name, m.Data)
	for _, dp := range h.DataPoints {
		if dp.Attributes.Equals(&attrs) {
			return dp, true
		}
	}
	return metricdata.HistogramDataPoint[float64]{}, false
}

func attrMap(kvs []otelattr.KeyValue) map[string]otelattr.Value {
	m := make(map[string]otelattr.Value, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

var callOp = telephony.Operation{Provider: "dialpad", Name: "POST /api/v2/call"}

// runOperation drives the Observer as the transport does: StartOperation,
// one StartAttempt per result, then the operation's end func.
func runOperation(ctx context.Context, o telephony.Observer, op telephony.Operation, attempts []telephony.AttemptResult, r telephony.OperationResult) {
	ctx, end := o.StartOperation(ctx, op)
	for i, a := range attempts {
		_, endAttempt := o.StartAttempt(ctx, op, i+1)
		endAttempt(a)
	}
	end(r)
}

func TestOperationSpanWithAttempts(t *testing.T) {
	h := newHarness(t)
	reset := time.Now().Add(time.Minute)
	runOperation(context.Background(), h.obs, callOp,
		[]telephony.AttemptResult{{StatusCode: 503}, {StatusCode: 200}},
		telephony.OperationResult{
			StatusCode: 200, Attempts: 2, RequestID: "req-42",
			RateLimit:   telephony.RateLimitState{Known: true, Limit: 20, Remaining: 17, Reset: reset},
			LimiterWait: 150 * time.Millisecond, RetryWait: 500 * time.Millisecond,
		})

	spans := h.ended(t)
	require.Len(t, spans, 3)
	op := spans["POST /api/v2/call"]
	require.NotNil(t, op)
	assert.Equal(t, oteltrace.SpanKindClient, op.SpanKind())
	assert.False(t, op.Parent().IsValid(), "the operation span is a root here")
	assert.Equal(t, otelcodes.Unset, op.Status().Code)
	assert.Equal(t, ScopeName, op.InstrumentationScope().Name)
	assert.Equal(t, telephony.Version, op.InstrumentationScope().Version)
	a := attrMap(op.Attributes())
	assert.Equal(t, "dialpad", a[AttrProvider].AsString())
	assert.Equal(t, "POST /api/v2/call", a[AttrOperation].AsString())
	assert.Equal(t, int64(200), a[AttrStatusCode].AsInt64())
	assert.Equal(t, int64(2), a[AttrAttempts].AsInt64())
	assert.Equal(t, "req-42", a[AttrRequestID].AsString())
	assert.Equal(t, int64(20), a[AttrRateLimitLimit].AsInt64())
	assert.Equal(t, int64(17), a[AttrRateLimitRemaining].AsInt64())
	assert.InDelta(t, 150.0, a[AttrLimiterWaitMS].AsFloat64(), 1e-9)
	assert.InDelta(t, 500.0, a[AttrRetryWaitMS].AsFloat64(), 1e-9)
	assert.NotContains(t, a, AttrErrorType)

	first, second := spans["attempt 1"], spans["attempt 2"]
	require.NotNil(t, first)
	require.NotNil(t, second)
	for _, s := range []sdktrace.ReadOnlySpan{first, second} {
		assert.Equal(t, op.SpanContext().TraceID(), s.SpanContext().TraceID(), s.Name())
		assert.Equal(t, op.SpanContext().SpanID(), s.Parent().SpanID(), "%s is a child of the operation", s.Name())
		assert.Equal(t, oteltrace.SpanKindInternal, s.SpanKind())
		assert.False(t, s.StartTime().Before(op.StartTime()))
		assert.False(t, s.EndTime().After(op.EndTime()))
	}
	assert.False(t, second.StartTime().Before(first.EndTime()))

	fa := attrMap(first.Attributes())
	assert.Equal(t, int64(1), fa[AttrAttempt].AsInt64())
	assert.Equal(t, int64(503), fa[AttrStatusCode].AsInt64())
	assert.Equal(t, "503", fa[AttrErrorType].AsString())
	assert.Equal(t, otelcodes.Error, first.Status().Code)
	assert.Equal(t, "HTTP 503", first.Status().Description)

	sa := attrMap(second.Attributes())
	assert.Equal(t, int64(2), sa[AttrAttempt].AsInt64())
	assert.Equal(t, int64(200), sa[AttrStatusCode].AsInt64())
	assert.NotContains(t, sa, AttrErrorType)
	assert.Equal(t, otelcodes.Unset, second.Status().Code)
}

func TestOperationSpanIsChildOfCallerSpan(t *testing.T) {
	h := newHarness(t)
	ctx, parent := h.tp.Tracer("test").Start(context.Background(), "handle request")
	runOperation(ctx, h.obs, callOp, []telephony.AttemptResult{{StatusCode: 200}},
		telephony.OperationResult{StatusCode: 200, Attempts: 1})
	parent.End()

	spans := h.ended(t)
	require.Len(t, spans, 3)
	op := spans["POST /api/v2/call"]
	require.NotNil(t, op)
	assert.Equal(t, parent.SpanContext().SpanID(), op.Parent().SpanID())
	assert.Equal(t, op.SpanContext().SpanID(), spans["attempt 1"].Parent().SpanID())
}

func TestOperationSpanFailureNamesKindOnly(t *testing.T) {
	h := newHarness(t)
	const secret = "s3cr3t-token"
	urlErr := &url.Error{Op: "Post", URL: "https://api.example.com/v2/calls?api_key=" + secret, Err: context.DeadlineExceeded}
	opErr := &telephony.Error{
		Kind: telephony.ErrRateLimited, Provider: "justcall", Op: "POST /v2/calls/make",
		StatusCode: 429, Message: "slow down, key " + secret, RequestID: "req-7", Attempts: 3, Err: urlErr,
	}
	op := telephony.Operation{Provider: "justcall", Name: "POST /v2/calls/make"}
	runOperation(context.Background(), h.obs, op,
		[]telephony.AttemptResult{{StatusCode: 429}, {Err: urlErr}, {StatusCode: 429}},
		telephony.OperationResult{StatusCode: 429, Attempts: 3, RequestID: "req-7", Err: opErr,
			LimiterWait: 2 * time.Second})

	spans := h.ended(t)
	require.Len(t, spans, 4)
	s := spans["POST /v2/calls/make"]
	require.NotNil(t, s)
	assert.Equal(t, otelcodes.Error, s.Status().Code)
	assert.Equal(t, "rate limited", s.Status().Description)
	a := attrMap(s.Attributes())
	assert.Equal(t, "rate limited", a[AttrErrorType].AsString())
	assert.Equal(t, int64(429), a[AttrStatusCode].AsInt64())
	assert.Equal(t, int64(3), a[AttrAttempts].AsInt64())
	assert.NotContains(t, a, AttrRateLimitLimit, "rate limit unknown")
	assert.NotContains(t, a, AttrRateLimitRemaining)
	assert.InDelta(t, 2000.0, a[AttrLimiterWaitMS].AsFloat64(), 1e-9)

	timeout := spans["attempt 2"]
	require.NotNil(t, timeout)
	assert.Equal(t, otelcodes.Error, timeout.Status().Code)
	assert.Equal(t, "context deadline exceeded", timeout.Status().Description)
	ta := attrMap(timeout.Attributes())
	assert.Equal(t, "context deadline exceeded", ta[AttrErrorType].AsString())
	assert.NotContains(t, ta, AttrStatusCode, "no answer, no status")

	for _, sp := range h.spans.Ended() {
		assert.NotContains(t, sp.Status().Description, secret)
		assert.NotContains(t, sp.Status().Description, "api.example.com")
		for _, kv := range sp.Attributes() {
			assert.NotContains(t, kv.Value.Emit(), secret, "%s on %s", kv.Key, sp.Name())
			assert.NotContains(t, kv.Value.Emit(), "?", "%s on %s", kv.Key, sp.Name())
		}
		assert.Empty(t, sp.Events(), "no exception event carries the message")
	}
}

func TestOperationMetrics(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ok := telephony.OperationResult{StatusCode: 200, Attempts: 1, LimiterWait: 250 * time.Millisecond}
	runOperation(ctx, h.obs, callOp, []telephony.AttemptResult{{StatusCode: 200}}, ok)
	runOperation(ctx, h.obs, callOp, []telephony.AttemptResult{{StatusCode: 200}}, ok)
	notFound := &telephony.Error{Kind: telephony.ErrNotFound, Provider: "dialpad", StatusCode: 404, Attempts: 1}
	runOperation(ctx, h.obs, callOp, []telephony.AttemptResult{{StatusCode: 404}},
		telephony.OperationResult{StatusCode: 404, Attempts: 1, Err: notFound})
	unavailable := &telephony.Error{Kind: telephony.ErrUnavailable, Provider: "dialpad", StatusCode: 503, Attempts: 3}
	runOperation(ctx, h.obs, callOp,
		[]telephony.AttemptResult{{StatusCode: 503}, {StatusCode: 503}, {StatusCode: 503}},
		telephony.OperationResult{StatusCode: 503, Attempts: 3, Err: unavailable, RetryWait: time.Second})
	other := telephony.Operation{Provider: "aircall", Name: "GET /v1/users/{id}"}
	runOperation(ctx, h.obs, other, []telephony.AttemptResult{{StatusCode: 200}},
		telephony.OperationResult{StatusCode: 200, Attempts: 1})

	rm := h.collect(t)
	p, n := otelattr.String(AttrProvider, "dialpad"), otelattr.String(AttrOperation, "POST /api/v2/call")

	dur := findMetric(t, rm, MetricCallDuration)
	assert.Equal(t, "s", dur.Unit)
	dp, found := floatHist(t, dur, set(p, n, otelattr.String(AttrOutcome, OutcomeSuccess)))
	require.True(t, found)
	assert.Equal(t, uint64(2), dp.Count)
	dp, found = floatHist(t, dur, set(p, n, otelattr.String(AttrOutcome, OutcomeError)))
	require.True(t, found)
	assert.Equal(t, uint64(2), dp.Count)
	dp, found = floatHist(t, dur, set(otelattr.String(AttrProvider, "aircall"),
		otelattr.String(AttrOperation, "GET /v1/users/{id}"), otelattr.String(AttrOutcome, OutcomeSuccess)))
	require.True(t, found)
	assert.Equal(t, uint64(1), dp.Count)
	assert.Len(t, dur.Data.(metricdata.Histogram[float64]).DataPoints, 3)

	errs := findMetric(t, rm, MetricCallErrors)
	v, found := sumPoint(t, errs, set(p, n, otelattr.String(AttrErrorType, "not found")))
	require.True(t, found)
	assert.Equal(t, int64(1), v)
	v, found = sumPoint(t, errs, set(p, n, otelattr.String(AttrErrorType, "provider unavailable")))
	require.True(t, found)
	assert.Equal(t, int64(1), v)
	assert.Len(t, errs.Data.(metricdata.Sum[int64]).DataPoints, 2)

	att := findMetric(t, rm, MetricCallAttempts)
	ah, isHist := att.Data.(metricdata.Histogram[int64])
	require.True(t, isHist, "%T", att.Data)
	attrs := set(p, n)
	var adp *metricdata.HistogramDataPoint[int64]
	for i := range ah.DataPoints {
		if ah.DataPoints[i].Attributes.Equals(&attrs) {
			adp = &ah.DataPoints[i]
		}
	}
	require.NotNil(t, adp)
	assert.Equal(t, uint64(4), adp.Count)
	assert.Equal(t, int64(1+1+1+3), adp.Sum)
	maxAttempts, hasMax := adp.Max.Value()
	assert.True(t, hasMax)
	assert.Equal(t, int64(3), maxAttempts)

	wait := findMetric(t, rm, MetricRateLimitWait)
	assert.Equal(t, "s", wait.Unit)
	dp, found = floatHist(t, wait, set(p, n))
	require.True(t, found)
	assert.Equal(t, uint64(4), dp.Count)
	assert.InDelta(t, 0.5, dp.Sum, 1e-9, "limiter waits only, not the retry wait")

	for _, m := range []string{MetricHandlerDeliveries, MetricRoutingDecisions, MetricRoutingDecisionDuration, MetricDialpadRoutingErrors} {
		assert.False(t, hasMetric(rm, m), "%s before any delivery", m)
	}
}

func TestDeliveryMetrics(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	deliveries := []telephony.Delivery{
		{Provider: "aircall", Handler: "webhook", Result: "accepted", Status: 200, CallID: "c1"},
		{Provider: "aircall", Handler: "webhook", Result: "accepted", Status: 200, CallID: "c2"},
		{Provider: "aircall", Handler: "webhook", Result: "rejected", Status: 401, Err: telephony.ErrInvalidSignature},
		{Provider: "justcall", Handler: "callback", Result: "duplicate", Status: 200},
		{Provider: "dialpad", Handler: "routing", Result: "routed", Status: 200, Decision: "route", Latency: 40 * time.Millisecond, CallID: "d1"},
		{Provider: "dialpad", Handler: "routing", Result: "routed", Status: 200, Decision: "route", Latency: 60 * time.Millisecond, CallID: "d2"},
		{Provider: "dialpad", Handler: "routing", Result: "fallback", Status: 200, Decision: "timeout", Latency: 2 * time.Second},
		{Provider: "dialpad", Handler: "routing", Result: "rejected", Status: 401},
	}
	for _, d := range deliveries {
		h.obs.Delivery(ctx, d)
	}
	rm := h.collect(t)

	del := findMetric(t, rm, MetricHandlerDeliveries)
	dset := func(provider, handler, result string, status int) otelattr.Set {
		return set(otelattr.String(AttrProvider, provider), otelattr.String(AttrHandler, handler),
			otelattr.String(AttrResult, result), otelattr.Int(AttrStatusCode, status))
	}
	for _, c := range []struct {
		attrs otelattr.Set
		want  int64
	}{
		{dset("aircall", "webhook", "accepted", 200), 2},
		{dset("aircall", "webhook", "rejected", 401), 1},
		{dset("justcall", "callback", "duplicate", 200), 1},
		{dset("dialpad", "routing", "routed", 200), 2},
		{dset("dialpad", "routing", "fallback", 200), 1},
		{dset("dialpad", "routing", "rejected", 401), 1},
	} {
		v, found := sumPoint(t, del, c.attrs)
		if assert.True(t, found, c.attrs.Encoded(otelattr.DefaultEncoder())) {
			assert.Equal(t, c.want, v, c.attrs.Encoded(otelattr.DefaultEncoder()))
		}
	}
	assert.Len(t, del.Data.(metricdata.Sum[int64]).DataPoints, 6, "no call ids in metrics")

	dec := findMetric(t, rm, MetricRoutingDecisions)
	dp := otelattr.String(AttrProvider, "dialpad")
	v, found := sumPoint(t, dec, set(dp, otelattr.String(AttrDecision, "route")))
	require.True(t, found)
	assert.Equal(t, int64(2), v)
	v, found = sumPoint(t, dec, set(dp, otelattr.String(AttrDecision, "timeout")))
	require.True(t, found)
	assert.Equal(t, int64(1), v)
	assert.Len(t, dec.Data.(metricdata.Sum[int64]).DataPoints, 2, "only deliveries with a decision")

	dd := findMetric(t, rm, MetricRoutingDecisionDuration)
	assert.Equal(t, "s", dd.Unit)
	hp, found := floatHist(t, dd, set(dp, otelattr.String(AttrDecision, "route")))
	require.True(t, found)
	assert.Equal(t, uint64(2), hp.Count)
	assert.InDelta(t, 0.1, hp.Sum, 1e-9)
	hp, found = floatHist(t, dd, set(dp, otelattr.String(AttrDecision, "timeout")))
	require.True(t, found)
	assert.InDelta(t, 2.0, hp.Sum, 1e-9)

	g := findMetric(t, rm, MetricDialpadRoutingErrors)
	gauge, ok := g.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%T", g.Data)
	require.Len(t, gauge.DataPoints, 1)
	assert.Equal(t, int64(1), gauge.DataPoints[0].Value, "the 401")

	assert.Empty(t, h.spans.Ended(), "no span without one in the context")
}

func TestDeliveryEventOnRequestSpan(t *testing.T) {
	h := newHarness(t)
	ctx, span := h.tp.Tracer("test").Start(context.Background(), "POST /dialpad/route")
	h.obs.Delivery(ctx, telephony.Delivery{
		Provider: "dialpad", Handler: "routing", Result: "fallback", Status: 200,
		Decision: "error", Latency: 30 * time.Millisecond, CallID: "call-9",
		Err: fmt.Errorf("crm: %w", errors.New("GET https://crm/?key=abc failed")),
	})
	span.End()

	spans := h.spans.Ended()
	require.Len(t, spans, 1)
	events := spans[0].Events()
	require.Len(t, events, 1)
	assert.Equal(t, DeliveryEvent, events[0].Name)
	a := attrMap(events[0].Attributes)
	assert.Equal(t, "dialpad", a[AttrProvider].AsString())
	assert.Equal(t, "routing", a[AttrHandler].AsString())
	assert.Equal(t, "fallback", a[AttrResult].AsString())
	assert.Equal(t, int64(200), a[AttrStatusCode].AsInt64())
	assert.Equal(t, "error", a[AttrDecision].AsString())
	assert.Equal(t, "call-9", a[AttrCallID].AsString())
	assert.InDelta(t, 30.0, a[AttrLatencyMS].AsFloat64(), 1e-9)
	assert.Equal(t, "_OTHER", a[AttrErrorType].AsString())
}

func dialpadErrorsGauge(t *testing.T, h *harness) (int64, bool) {
	t.Helper()
	rm := h.collect(t)
	if !hasMetric(rm, MetricDialpadRoutingErrors) {
		return 0, false
	}
	g, ok := findMetric(t, rm, MetricDialpadRoutingErrors).Data.(metricdata.Gauge[int64])
	require.True(t, ok)
	require.Len(t, g.DataPoints, 1)
	return g.DataPoints[0].Value, true
}

func TestDialpadRoutingErrorsLastHour(t *testing.T) {
	h := newHarness(t)
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	h.obs.now = func() time.Time { return now }
	at := func(d time.Duration) { now = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Add(d) }
	route := func(status int, latency time.Duration) telephony.Delivery {
		return telephony.Delivery{Provider: "dialpad", Handler: "routing", Result: "routed", Status: status, Decision: "route", Latency: latency}
	}
	ctx := context.Background()

	_, reported := dialpadErrorsGauge(t, h)
	assert.False(t, reported, "no gauge before a Dialpad routing delivery")

	h.obs.Delivery(ctx, route(200, 100*time.Millisecond)) // fine
	n, reported := dialpadErrorsGauge(t, h)
	require.True(t, reported)
	assert.Equal(t, int64(0), n)

	at(10 * time.Second)
	h.obs.Delivery(ctx, route(500, 10*time.Millisecond))
	h.obs.Delivery(ctx, route(401, 0))
	h.obs.Delivery(ctx, route(200, 5*time.Second)) // too slow counts
	h.obs.Delivery(ctx, route(200, 4999*time.Millisecond))
	// Not Dialpad routing: not counted.
	h.obs.Delivery(ctx, telephony.Delivery{Provider: "aircall", Handler: "routing", Result: "failed", Status: 500, Decision: "error"})
	h.obs.Delivery(ctx, telephony.Delivery{Provider: "dialpad", Handler: "webhook", Result: "rejected", Status: 401})

	at(30 * time.Minute)
	for range 8 {
		h.obs.Delivery(ctx, route(503, 0))
	}
	n, _ = dialpadErrorsGauge(t, h)
	assert.Equal(t, int64(11), n, "more than DialpadErrorLimit: Dialpad would disable the router")
	assert.Greater(t, n, int64(DialpadErrorLimit))

	at(59 * time.Minute)
	n, _ = dialpadErrorsGauge(t, h)
	assert.Equal(t, int64(11), n)

	at(61*time.Minute + time.Second) // the 9:00 errors are over an hour old
	n, _ = dialpadErrorsGauge(t, h)
	assert.Equal(t, int64(8), n)

	at(91*time.Minute + time.Second)
	n, reported = dialpadErrorsGauge(t, h)
	assert.True(t, reported)
	assert.Equal(t, int64(0), n)

	// Days later the slots are reused, not grown.
	at(72 * time.Hour)
	for range 3 {
		h.obs.Delivery(ctx, route(500, 0))
	}
	n, _ = dialpadErrorsGauge(t, h)
	assert.Equal(t, int64(3), n)
}

func TestHourWindowBoundedMemory(t *testing.T) {
	var w hourWindow
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 { // one error every 30s for ~3.5 days
		w.record(start.Add(time.Duration(i)*30*time.Second), true)
	}
	last := start.Add(9_999 * 30 * time.Second)
	n, ok := w.count(last)
	require.True(t, ok)
	// Two per minute: 60 to 61 minutes' worth.
	assert.GreaterOrEqual(t, n, int64(120))
	assert.LessOrEqual(t, n, int64(122))
	assert.Len(t, w.slots, 61)
}

func TestNilObserver(t *testing.T) {
	var o *Observer
	var obs telephony.Observer = o
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, 1)
	got, end := obs.StartOperation(ctx, callOp)
	assert.Equal(t, ctx, got)
	got2, endAttempt := obs.StartAttempt(got, callOp, 1)
	assert.Equal(t, ctx, got2)
	assert.NotPanics(t, func() {
		endAttempt(telephony.AttemptResult{StatusCode: 200})
		end(telephony.OperationResult{StatusCode: 200, Attempts: 1})
		obs.Delivery(ctx, telephony.Delivery{Provider: "dialpad", Handler: "routing", Status: 500})
	})
}

func TestNewUsesGlobalProviders(t *testing.T) {
	prevTP, prevMP := otelapi.GetTracerProvider(), otelapi.GetMeterProvider()
	t.Cleanup(func() {
		otelapi.SetTracerProvider(prevTP)
		otelapi.SetMeterProvider(prevMP)
	})
	rec := tracetest.NewSpanRecorder()
	otelapi.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	reader := sdkmetric.NewManualReader()
	otelapi.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))

	obs, err := New(Options{})
	require.NoError(t, err)
	runOperation(context.Background(), obs, callOp, []telephony.AttemptResult{{StatusCode: 200}},
		telephony.OperationResult{StatusCode: 200, Attempts: 1})

	assert.Len(t, rec.Ended(), 2)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	assert.True(t, hasMetric(rm, MetricCallDuration))
}

func TestErrorType(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&telephony.Error{Kind: telephony.ErrRateLimited, Message: "x"}, "rate limited"},
		{fmt.Errorf("wrapped: %w", &telephony.Error{Kind: telephony.ErrNotFound}), "not found"},
		{&telephony.Error{Kind: telephony.ErrUnavailable, Err: context.DeadlineExceeded}, "provider unavailable"},
		{&telephony.Error{Kind: telephony.ErrOutcomeUnknown, Err: context.Canceled}, "outcome unknown"},
		{telephony.ErrInvalidSignature, "invalid signature"},
		{fmt.Errorf("route: %w", telephony.ErrNoRoute), "no routing rule matched"},
		{&url.Error{Op: "Get", URL: "https://x/?k=v", Err: context.DeadlineExceeded}, "context deadline exceeded"},
		{context.Canceled, "context canceled"},
		{&url.Error{Op: "Get", URL: "https://x/", Err: timeoutErr{}}, "timeout"},
		{errors.New("dial tcp: connection refused"), "_OTHER"},
	} {
		assert.Equal(t, c.want, ErrorType(c.err), "%v", c.err)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestConcurrentUse(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				op := telephony.Operation{Provider: "aircall", Name: fmt.Sprintf("GET /v1/op%d", i%5)}
				var err error
				if i%7 == 0 {
					err = &telephony.Error{Kind: telephony.ErrUnavailable}
				}
				runOperation(ctx, h.obs, op, []telephony.AttemptResult{{StatusCode: 200}},
					telephony.OperationResult{StatusCode: 200, Attempts: 1, Err: err})
				h.obs.Delivery(ctx, telephony.Delivery{Provider: "dialpad", Handler: "routing", Result: "routed",
					Status: 200 + (g+i)%2*300, Decision: "route"})
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			var rm metricdata.ResourceMetrics
			_ = h.reader.Collect(ctx, &rm)
		}
	}()
	wg.Wait()
	<-done

	rm := h.collect(t)
	del := findMetric(t, rm, MetricHandlerDeliveries)
	var total int64
	for _, dp := range del.Data.(metricdata.Sum[int64]).DataPoints {
		total += dp.Value
	}
	assert.Equal(t, int64(8*200), total)
	assert.Len(t, h.spans.Ended(), 8*200*2)
	n, _ := dialpadErrorsGauge(t, h)
	assert.Equal(t, int64(8*200/2), n)
}

// With no-op providers (what the otel globals are until a program sets
// them) an operation with one attempt costs two closures and the two
// contexts the tracer makes, and a delivery nothing: attribute sets, span
// options and option slices are cached.
func TestAllocationsWithNoopProviders(t *testing.T) {
	obs, err := New(Options{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
	require.NoError(t, err)
	ctx := context.Background()
	res := telephony.OperationResult{StatusCode: 200, Attempts: 1, RateLimit: telephony.RateLimitState{Known: true, Limit: 10, Remaining: 9}}
	fail := telephony.OperationResult{StatusCode: 404, Attempts: 1, Err: &telephony.Error{Kind: telephony.ErrNotFound}}
	ok := func() { runOperation(ctx, obs, callOp, []telephony.AttemptResult{{StatusCode: 200}}, res) }
	failed := func() { runOperation(ctx, obs, callOp, []telephony.AttemptResult{{StatusCode: 404}}, fail) }
	d := telephony.Delivery{Provider: "dialpad", Handler: "routing", Result: "routed", Status: 200, Decision: "route"}
	delivery := func() { obs.Delivery(ctx, d) }
	for _, f := range []func(){ok, failed, delivery} {
		f() // fill the caches
	}
	assert.LessOrEqual(t, testing.AllocsPerRun(200, ok), 4.0, "operation")
	assert.LessOrEqual(t, testing.AllocsPerRun(200, failed), 4.0, "failed operation")
	assert.Zero(t, testing.AllocsPerRun(200, delivery), "delivery")
}

func BenchmarkOperation(b *testing.B) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.NeverSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	obs, err := New(Options{TracerProvider: tp, MeterProvider: mp})
	require.NoError(b, err)
	ctx := context.Background()
	res := telephony.OperationResult{StatusCode: 200, Attempts: 1}
	b.ReportAllocs()
	for b.Loop() {
		runOperation(ctx, obs, callOp, []telephony.AttemptResult{{StatusCode: 200}}, res)
	}
}

// A program that uses the provider packages without this one must not
// link OpenTelemetry: only the Observer interface lives in telephony.
func TestProvidersDoNotLinkOpenTelemetry(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	list := func(pkgs ...string) string {
		t.Helper()
		args := append([]string{"list", "-C", "../..", "-deps"}, pkgs...)
		out, err := exec.Command(goTool, args...).CombinedOutput()
		require.NoError(t, err, "go %s\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	deps := list("./aircall", "./dialpad", "./justcall", "./telephony", "./examples/smartrouting")
	require.Contains(t, deps, "github.com/switchboard-go/switchboard/telephony\n", "the listing is of this module")
	for _, line := range strings.Split(deps, "\n") {
		assert.False(t, strings.HasPrefix(line, "go.opentelemetry.io"), "linked without importing telephony/otel: %s", line)
	}
	// And the check can fail: this package does pull it in.
	assert.Contains(t, list("./telephony/otel"), "go.opentelemetry.io/otel/trace\n")
}
