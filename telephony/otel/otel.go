// Package otel reports what Switchboard clients and handlers do to
// OpenTelemetry: a span per client operation with a child span per HTTP
// attempt, and metrics for calls, rate-limit waits, handler deliveries and
// routing decisions.
//
// It is opt-in: the provider packages only know the telephony.Observer
// interface, so a program that does not import this package does not
// compile or link OpenTelemetry. Build an Observer with New and give it to
// clients with telephony.WithObserver and to handlers through the Observer
// field of their options:
//
//	obs, err := otel.New(otel.Options{}) // the global providers
//	if err != nil { ... }
//	c, err := dialpad.New(key, telephony.WithObserver(obs))
//
// # Spans
//
// Each client operation (one logical API call with all its attempts and
// waits) is a span of kind client named after the operation's method and
// route template ("POST /api/v2/call"). It carries these attributes:
//
//	switchboard.provider              "justcall", "dialpad", "aircall"
//	switchboard.operation             the route template, as the span name
//	http.response.status_code         the final HTTP status, when one came
//	switchboard.attempts              how many requests went out
//	switchboard.request_id            the provider's request id, when sent
//	switchboard.ratelimit.limit       the provider's rate-limit headers,
//	switchboard.ratelimit.remaining   when it sent them
//	switchboard.limiter.wait_ms       time waiting in rate limiters (ms)
//	switchboard.retry.wait_ms         time waiting between attempts (ms)
//	error.type                        on failure: the error's kind
//
// A failed operation's status is Error, described by its kind: the text of
// the telephony sentinel it matches ("rate limited", "not found", ...),
// never the error's message, so no URL, query or credential reaches a
// span. Each HTTP request of the operation is a child span of kind
// internal named "attempt N" with switchboard.attempt,
// http.response.status_code and, when it failed, error.type; an
// instrumented http.Client (otelhttp) puts its own client span below it.
//
// Handlers make no spans of their own: when the request's context holds a
// recording span (an instrumented server), each delivery adds a
// "switchboard.delivery" event to it, with the provider, handler, result,
// status, routing decision and the call id.
//
// # Metrics
//
//	switchboard.call.duration                    histogram, s: provider, operation, outcome
//	switchboard.call.attempts                    histogram, {attempt}: provider, operation
//	switchboard.call.errors                      counter: provider, operation, error.type
//	switchboard.ratelimit.wait                   histogram, s: provider, operation
//	switchboard.handler.deliveries               counter: provider, handler, result, http.response.status_code
//	switchboard.routing.decisions                counter: provider, decision
//	switchboard.routing.decision.duration        histogram, s: provider, decision
//	switchboard.dialpad.routing.errors_last_hour gauge, {error}
//
// Attributes are kept to small sets (no ids in metrics). The last gauge
// watches the rule by which Dialpad disables a call router: more than 10
// errors (an answer other than 200, or one taking 5 seconds or more) in an
// hour.
package otel

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	otelapi "go.opentelemetry.io/otel"
	otelattr "go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	otelmetric "go.opentelemetry.io/otel/metric"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/switchboard-go/switchboard/telephony"
)

// ScopeName is the instrumentation scope of the Observer's tracer and
// meter.
const ScopeName = "github.com/switchboard-go/switchboard/telephony/otel"

// Attribute keys the Observer sets, on spans and metrics.
const (
	AttrProvider           = "switchboard.provider"
	AttrOperation          = "switchboard.operation"
	AttrAttempts           = "switchboard.attempts"
	AttrAttempt            = "switchboard.attempt"
	AttrRequestID          = "switchboard.request_id"
	AttrRateLimitLimit     = "switchboard.ratelimit.limit"
	AttrRateLimitRemaining = "switchboard.ratelimit.remaining"
	AttrLimiterWaitMS      = "switchboard.limiter.wait_ms"
	AttrRetryWaitMS        = "switchboard.retry.wait_ms"
	AttrOutcome            = "switchboard.outcome"
	AttrHandler            = "switchboard.handler"
	AttrResult             = "switchboard.result"
	AttrDecision           = "switchboard.decision"
	AttrCallID             = "switchboard.call_id"
	AttrLatencyMS          = "switchboard.latency_ms"
	AttrStatusCode         = "http.response.status_code"
	AttrErrorType          = "error.type"
)

// Values of AttrOutcome on switchboard.call.duration.
const (
	OutcomeSuccess = "success"
	OutcomeError   = "error"
)

// Names of the instruments the Observer creates.
const (
	MetricCallDuration            = "switchboard.call.duration"
	MetricCallAttempts            = "switchboard.call.attempts"
	MetricCallErrors              = "switchboard.call.errors"
	MetricRateLimitWait           = "switchboard.ratelimit.wait"
	MetricHandlerDeliveries       = "switchboard.handler.deliveries"
	MetricRoutingDecisions        = "switchboard.routing.decisions"
	MetricRoutingDecisionDuration = "switchboard.routing.decision.duration"
	MetricDialpadRoutingErrors    = "switchboard.dialpad.routing.errors_last_hour"
)

// DeliveryEvent is the name of the span event Delivery adds to the
// request's span.
const DeliveryEvent = "switchboard.delivery"

// Dialpad's rule for disabling a call router: more than DialpadErrorLimit
// errors within an hour, an error being an answer other than 200 or one
// that took DialpadSlowDecision or longer.
const (
	DialpadErrorLimit   = 10
	DialpadSlowDecision = 5 * time.Second
)

// Options configures New.
type Options struct {
	// TracerProvider makes the tracer; nil means otel.GetTracerProvider().
	TracerProvider oteltrace.TracerProvider
	// MeterProvider makes the meter; nil means otel.GetMeterProvider().
	MeterProvider otelmetric.MeterProvider
}

// Observer implements telephony.Observer on OpenTelemetry. Build it with
// New and share one among all clients and handlers of a program: it is safe
// for concurrent use and keeps its instruments and a bounded cache of
// attribute sets. A nil *Observer observes nothing.
type Observer struct {
	tracer oteltrace.Tracer

	callDuration     otelmetric.Float64Histogram
	callAttempts     otelmetric.Int64Histogram
	callErrors       otelmetric.Int64Counter
	rateLimitWait    otelmetric.Float64Histogram
	deliveries       otelmetric.Int64Counter
	decisions        otelmetric.Int64Counter
	decisionDuration otelmetric.Float64Histogram

	now    func() time.Time // the dialpad window's clock; tests set it
	window hourWindow

	opsMu sync.RWMutex
	ops   map[telephony.Operation]*opState

	deliveryOpts attrCache[deliveryKey]
	decisionOpts attrCache[decisionKey]
}

var _ telephony.Observer = (*Observer)(nil)

// Histogram boundaries, in seconds.
var (
	callBuckets     = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	waitBuckets     = []float64{0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	decisionBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 10}
	attemptBuckets  = []float64{1, 2, 3, 4, 5, 10}
)

// New returns an Observer reporting to the providers of opts. It fails
// only when the meter refuses to create an instrument.
func New(opts Options) (*Observer, error) {
	tp := opts.TracerProvider
	if tp == nil {
		tp = otelapi.GetTracerProvider()
	}
	mp := opts.MeterProvider
	if mp == nil {
		mp = otelapi.GetMeterProvider()
	}
	o := &Observer{
		tracer: tp.Tracer(ScopeName, oteltrace.WithInstrumentationVersion(telephony.Version)),
		now:    time.Now,
		ops:    make(map[telephony.Operation]*opState),
	}
	m := mp.Meter(ScopeName, otelmetric.WithInstrumentationVersion(telephony.Version))

	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	o.callDuration, err = m.Float64Histogram(MetricCallDuration,
		otelmetric.WithDescription("Duration of client operations, all attempts and waits included."),
		otelmetric.WithUnit("s"), otelmetric.WithExplicitBucketBoundaries(callBuckets...))
	add(err)
	o.callAttempts, err = m.Int64Histogram(MetricCallAttempts,
		otelmetric.WithDescription("Number of HTTP requests sent per client operation."),
		otelmetric.WithUnit("{attempt}"), otelmetric.WithExplicitBucketBoundaries(attemptBuckets...))
	add(err)
	o.callErrors, err = m.Int64Counter(MetricCallErrors,
		otelmetric.WithDescription("Client operations that failed, by error type."),
		otelmetric.WithUnit("{error}"))
	add(err)
	o.rateLimitWait, err = m.Float64Histogram(MetricRateLimitWait,
		otelmetric.WithDescription("Time client operations waited for rate limiters (not backoff)."),
		otelmetric.WithUnit("s"), otelmetric.WithExplicitBucketBoundaries(waitBuckets...))
	add(err)
	o.deliveries, err = m.Int64Counter(MetricHandlerDeliveries,
		otelmetric.WithDescription("Requests answered by inbound handlers (webhooks, callbacks, routing)."),
		otelmetric.WithUnit("{delivery}"))
	add(err)
	o.decisions, err = m.Int64Counter(MetricRoutingDecisions,
		otelmetric.WithDescription("Routing decisions made by routing handlers, by how they were made."),
		otelmetric.WithUnit("{decision}"))
	add(err)
	o.decisionDuration, err = m.Float64Histogram(MetricRoutingDecisionDuration,
		otelmetric.WithDescription("Time from a routing request's arrival to its answer."),
		otelmetric.WithUnit("s"), otelmetric.WithExplicitBucketBoundaries(decisionBuckets...))
	add(err)
	_, err = m.Int64ObservableGauge(MetricDialpadRoutingErrors,
		otelmetric.WithDescription("Dialpad routing requests answered with a status other than 200 or in 5s or more, "+
			"in the last hour; Dialpad disables a call router after more than 10."),
		otelmetric.WithUnit("{error}"),
		otelmetric.WithInt64Callback(o.observeDialpadErrors))
	add(err)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return o, nil
}

// opState is what the Observer keeps per operation: the span start options
// and the metric attribute sets, built once.
type opState struct {
	startOpts []oteltrace.SpanStartOption
	base      []otelmetric.RecordOption // provider, operation
	success   []otelmetric.RecordOption // provider, operation, outcome=success

	mu     sync.RWMutex
	errors map[string]errOpts // by error.type
}

type errOpts struct {
	duration []otelmetric.RecordOption // provider, operation, outcome=error
	count    []otelmetric.AddOption    // provider, operation, error.type
}

// The options are kept in slices, passed on with ..., so that recording
// does not allocate a slice per call.
func recordOpt(s otelattr.Set) []otelmetric.RecordOption {
	return []otelmetric.RecordOption{otelmetric.WithAttributeSet(s)}
}

func addOpt(s otelattr.Set) []otelmetric.AddOption {
	return []otelmetric.AddOption{otelmetric.WithAttributeSet(s)}
}

// maxCached bounds every cache of attribute sets; past it sets are built
// per call (correct, only slower).
const maxCached = 1024

func (o *Observer) op(op telephony.Operation) *opState {
	o.opsMu.RLock()
	st := o.ops[op]
	o.opsMu.RUnlock()
	if st != nil {
		return st
	}
	st = newOpState(op)
	o.opsMu.Lock()
	defer o.opsMu.Unlock()
	if cur := o.ops[op]; cur != nil {
		return cur
	}
	if len(o.ops) < maxCached {
		o.ops[op] = st
	}
	return st
}

func newOpState(op telephony.Operation) *opState {
	p := otelattr.String(AttrProvider, op.Provider)
	n := otelattr.String(AttrOperation, op.Name)
	return &opState{
		startOpts: []oteltrace.SpanStartOption{
			oteltrace.WithSpanKind(oteltrace.SpanKindClient),
			oteltrace.WithAttributes(p, n),
		},
		base:    recordOpt(otelattr.NewSet(p, n)),
		success: recordOpt(otelattr.NewSet(p, n, otelattr.String(AttrOutcome, OutcomeSuccess))),
		errors:  make(map[string]errOpts),
	}
}

func (st *opState) errorOpts(provider, name, errType string) errOpts {
	st.mu.RLock()
	e, ok := st.errors[errType]
	st.mu.RUnlock()
	if ok {
		return e
	}
	p := otelattr.String(AttrProvider, provider)
	n := otelattr.String(AttrOperation, name)
	e = errOpts{
		duration: recordOpt(otelattr.NewSet(p, n, otelattr.String(AttrOutcome, OutcomeError))),
		count:    addOpt(otelattr.NewSet(p, n, otelattr.String(AttrErrorType, errType))),
	}
	st.mu.Lock()
	if len(st.errors) < maxCached {
		st.errors[errType] = e
	}
	st.mu.Unlock()
	return e
}

func nopOperation(telephony.OperationResult) {}
func nopAttempt(telephony.AttemptResult)     {}

// StartOperation starts the operation's span (a child of any span in ctx)
// and returns the context holding it. The returned func ends the span and
// records the operation's metrics.
func (o *Observer) StartOperation(ctx context.Context, op telephony.Operation) (context.Context, func(telephony.OperationResult)) {
	if o == nil {
		return ctx, nopOperation
	}
	st := o.op(op)
	name := op.Name
	if name == "" {
		name = op.Provider
	}
	start := time.Now()
	ctx, span := o.tracer.Start(ctx, name, st.startOpts...)
	return ctx, func(r telephony.OperationResult) {
		o.endOperation(ctx, span, op, st, start, r)
	}
}

func (o *Observer) endOperation(ctx context.Context, span oteltrace.Span, op telephony.Operation, st *opState,
	start time.Time, r telephony.OperationResult) {
	elapsed := time.Since(start)
	var errType string
	if r.Err != nil {
		errType = ErrorType(r.Err)
	}
	if span.IsRecording() {
		annotateOperation(span, r, errType)
	}
	span.End()

	if r.Err != nil {
		e := st.errorOpts(op.Provider, op.Name, errType)
		o.callDuration.Record(ctx, elapsed.Seconds(), e.duration...)
		o.callErrors.Add(ctx, 1, e.count...)
	} else {
		o.callDuration.Record(ctx, elapsed.Seconds(), st.success...)
	}
	o.callAttempts.Record(ctx, int64(r.Attempts), st.base...)
	o.rateLimitWait.Record(ctx, r.LimiterWait.Seconds(), st.base...)
}

// annotateOperation sets the result's attributes and status on a recording
// operation span.
func annotateOperation(span oteltrace.Span, r telephony.OperationResult, errType string) {
	var buf [9]otelattr.KeyValue
	a := buf[:0]
	if r.StatusCode != 0 {
		a = append(a, otelattr.Int(AttrStatusCode, r.StatusCode))
	}
	a = append(a, otelattr.Int(AttrAttempts, r.Attempts))
	if r.RequestID != "" {
		a = append(a, otelattr.String(AttrRequestID, r.RequestID))
	}
	if r.RateLimit.Known {
		a = append(a,
			otelattr.Int(AttrRateLimitLimit, r.RateLimit.Limit),
			otelattr.Int(AttrRateLimitRemaining, r.RateLimit.Remaining))
	}
	a = append(a,
		otelattr.Float64(AttrLimiterWaitMS, milliseconds(r.LimiterWait)),
		otelattr.Float64(AttrRetryWaitMS, milliseconds(r.RetryWait)))
	if r.Err != nil {
		a = append(a, otelattr.String(AttrErrorType, errType))
	}
	span.SetAttributes(a...)
	if r.Err != nil {
		span.SetStatus(otelcodes.Error, errType)
	}
}

func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// attemptNames spares building the usual attempt span names.
var attemptNames = func() (n [16]string) {
	for i := range n {
		n[i] = "attempt " + strconv.Itoa(i)
	}
	return n
}()

var attemptStartOpts = []oteltrace.SpanStartOption{oteltrace.WithSpanKind(oteltrace.SpanKindInternal)}

// StartAttempt starts the span of one HTTP request ("attempt N"), a child
// of the operation's span in ctx. The returned func ends it with the
// request's status, marking it Error on a transport error or a status of
// 400 or more.
func (o *Observer) StartAttempt(ctx context.Context, op telephony.Operation, attempt int) (context.Context, func(telephony.AttemptResult)) {
	if o == nil {
		return ctx, nopAttempt
	}
	name := ""
	if attempt >= 0 && attempt < len(attemptNames) {
		name = attemptNames[attempt]
	} else {
		name = "attempt " + strconv.Itoa(attempt)
	}
	ctx, span := o.tracer.Start(ctx, name, attemptStartOpts...)
	if !span.IsRecording() {
		return ctx, func(telephony.AttemptResult) { span.End() }
	}
	return ctx, func(r telephony.AttemptResult) {
		var buf [3]otelattr.KeyValue
		a := append(buf[:0], otelattr.Int(AttrAttempt, attempt))
		if r.StatusCode != 0 {
			a = append(a, otelattr.Int(AttrStatusCode, r.StatusCode))
		}
		switch {
		case r.Err != nil:
			et := ErrorType(r.Err)
			a = append(a, otelattr.String(AttrErrorType, et))
			span.SetStatus(otelcodes.Error, et)
		case r.StatusCode >= 400:
			et := strconv.Itoa(r.StatusCode)
			a = append(a, otelattr.String(AttrErrorType, et))
			span.SetStatus(otelcodes.Error, "HTTP "+et)
		}
		span.SetAttributes(a...)
		span.End()
	}
}

// deliveryKey and decisionKey index the handler metrics' attribute sets.
type deliveryKey struct {
	provider, handler, result string
	status                    int
}

type decisionKey struct{ provider, decision string }

func deliveryAttrs(k deliveryKey) otelattr.Set {
	return otelattr.NewSet(
		otelattr.String(AttrProvider, k.provider),
		otelattr.String(AttrHandler, k.handler),
		otelattr.String(AttrResult, k.result),
		otelattr.Int(AttrStatusCode, k.status))
}

func decisionAttrs(k decisionKey) otelattr.Set {
	return otelattr.NewSet(
		otelattr.String(AttrProvider, k.provider),
		otelattr.String(AttrDecision, k.decision))
}

// Delivery records a request an inbound handler answered: the deliveries
// counter; for a routing decision, the decisions counter and its duration;
// for Dialpad routing, the sliding hour of errors. When ctx holds a
// recording span, it also adds a DeliveryEvent to it.
func (o *Observer) Delivery(ctx context.Context, d telephony.Delivery) {
	if o == nil {
		return
	}
	o.deliveries.Add(ctx, 1, o.deliveryOpts.get(deliveryKey{d.Provider, d.Handler, d.Result, d.Status}, deliveryAttrs).add...)
	if d.Decision != "" {
		opt := o.decisionOpts.get(decisionKey{d.Provider, d.Decision}, decisionAttrs)
		o.decisions.Add(ctx, 1, opt.add...)
		if d.Handler == "routing" {
			o.decisionDuration.Record(ctx, d.Latency.Seconds(), opt.record...)
		}
	}
	if d.Provider == "dialpad" && d.Handler == "routing" {
		o.window.record(o.now(), d.Status != 200 || d.Latency >= DialpadSlowDecision)
	}
	if span := oteltrace.SpanFromContext(ctx); span.IsRecording() {
		a := make([]otelattr.KeyValue, 0, 8)
		a = append(a,
			otelattr.String(AttrProvider, d.Provider),
			otelattr.String(AttrHandler, d.Handler),
			otelattr.String(AttrResult, d.Result),
			otelattr.Int(AttrStatusCode, d.Status))
		if d.Decision != "" {
			a = append(a, otelattr.String(AttrDecision, d.Decision))
		}
		if d.Latency > 0 {
			a = append(a, otelattr.Float64(AttrLatencyMS, milliseconds(d.Latency)))
		}
		if d.CallID != "" {
			a = append(a, otelattr.String(AttrCallID, d.CallID))
		}
		if d.Err != nil {
			a = append(a, otelattr.String(AttrErrorType, ErrorType(d.Err)))
		}
		span.AddEvent(DeliveryEvent, oteltrace.WithAttributes(a...))
	}
}

func (o *Observer) observeDialpadErrors(_ context.Context, obs otelmetric.Int64Observer) error {
	if n, ok := o.window.count(o.now()); ok {
		obs.Observe(n)
	}
	return nil
}

// sentinels are the telephony errors ErrorType names, most specific first.
var sentinels = []error{
	telephony.ErrOutcomeUnknown,
	telephony.ErrRateLimited,
	telephony.ErrInvalidSignature,
	telephony.ErrUnauthorized,
	telephony.ErrNotFound,
	telephony.ErrConflict,
	telephony.ErrInvalidRequest,
	telephony.ErrUnsupported,
	telephony.ErrUnavailable,
	telephony.ErrBadResponse,
	telephony.ErrNoRoute,
}

// ErrorType is the low-cardinality name the Observer gives err (its
// error.type attribute): the text of the telephony sentinel it matches
// ("rate limited", "not found", ...; a *telephony.Error's Kind first),
// "context canceled" or "context deadline exceeded", "timeout" for a
// network timeout, and "_OTHER" for anything else. It never returns err's
// message, which may hold a URL.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	if te, ok := err.(*telephony.Error); ok && te.Kind != nil {
		return te.Kind.Error() // the usual case, without errors.As's allocation
	}
	var te *telephony.Error
	if errors.As(err, &te) && te.Kind != nil {
		return te.Kind.Error()
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded.Error()
	case errors.Is(err, context.Canceled):
		return context.Canceled.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "_OTHER"
}

// attrCache maps a small key to the measurement option of its attribute
// set, so recording does not build a set per call. It holds at most
// maxCached entries.
type attrCache[K comparable] struct {
	mu sync.RWMutex
	m  map[K]measureOpts
}

type measureOpts struct {
	add    []otelmetric.AddOption
	record []otelmetric.RecordOption
}

func (c *attrCache[K]) get(k K, build func(K) otelattr.Set) measureOpts {
	c.mu.RLock()
	opt, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return opt
	}
	set := build(k)
	opt = measureOpts{add: addOpt(set), record: recordOpt(set)}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[K]measureOpts)
	}
	if len(c.m) < maxCached {
		c.m[k] = opt
	}
	c.mu.Unlock()
	return opt
}

// hourWindow counts events in the last hour in one-minute slots: fixed
// memory, and an event counts for 60 to 61 minutes (erring high, the safe
// side for an alert).
type hourWindow struct {
	mu    sync.Mutex
	seen  bool
	slots [61]struct {
		minute int64
		n      int64
	}
}

// record notes a delivery at t, counting it when isErr.
func (w *hourWindow) record(t time.Time, isErr bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = true
	if !isErr {
		return
	}
	m := minuteOf(t)
	s := &w.slots[slotOf(m, len(w.slots))]
	if s.minute != m {
		s.minute, s.n = m, 0
	}
	s.n++
}

// count is the number of errors in the hour before now; ok is false until
// a delivery was recorded.
func (w *hourWindow) count(now time.Time) (n int64, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen {
		return 0, false
	}
	cur := minuteOf(now)
	for _, s := range w.slots {
		if s.n > 0 && s.minute <= cur && cur-s.minute < int64(len(w.slots)) {
			n += s.n
		}
	}
	return n, true
}

func minuteOf(t time.Time) int64 {
	u := t.Unix()
	m := u / 60
	if u < 0 && u%60 != 0 {
		m--
	}
	return m
}

func slotOf(minute int64, n int) int {
	i := int(minute % int64(n))
	if i < 0 {
		i += n
	}
	return i
}
