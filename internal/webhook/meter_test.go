package webhook

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/telephony"
)

type ctxKey struct{}

// A job keeps its request's values but not its cancellation (the request
// ends with the answer), and Close still cancels it.
func TestRunnerJobKeepsRequestValues(t *testing.T) {
	r := NewRunner(1, 0)
	req, cancelReq := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "trace-1"))
	got := make(chan any, 1)
	ended := make(chan error, 1)
	require.True(t, r.TryGo(req, func(ctx context.Context) {
		got <- ctx.Value(ctxKey{})
		<-ctx.Done()
		ended <- ctx.Err()
	}))
	assert.Equal(t, "trace-1", <-got)
	cancelReq() // the request is answered
	select {
	case err := <-ended:
		t.Fatalf("the job ended with its request: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, r.Close(ctx), context.DeadlineExceeded)
	assert.ErrorIs(t, <-ended, context.Canceled, "Close cancels the job")
	r.Wait()
}

// Queued jobs wait for a slot; beyond the queue TryGo refuses.
func TestRunnerQueue(t *testing.T) {
	r := NewQueuedRunner(1, 2, 0)
	release := make(chan struct{})
	ran := make(chan int, 3)
	for i := range 3 {
		require.True(t, r.TryGo(context.Background(), func(context.Context) { <-release; ran <- i }), "job %d", i)
	}
	assert.False(t, r.TryGo(context.Background(), func(context.Context) {}), "beyond the queue")
	require.Eventually(t, func() bool { return r.InFlight() == 1 }, time.Second, time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	assert.Equal(t, 1, r.InFlight(), "one running, two waiting")
	close(release)
	require.NoError(t, r.Close(t.Context()))
	assert.Len(t, ran, 3)
}

type countingObserver struct{ n int }

func (o *countingObserver) StartOperation(ctx context.Context, _ telephony.Operation) (context.Context, func(telephony.OperationResult)) {
	return ctx, func(telephony.OperationResult) {}
}

func (o *countingObserver) StartAttempt(ctx context.Context, _ telephony.Operation, _ int) (context.Context, func(telephony.AttemptResult)) {
	return ctx, func(telephony.AttemptResult) {}
}

func (o *countingObserver) Delivery(context.Context, telephony.Delivery) { o.n++ }

// A nil Observer costs nothing: no call, no allocation.
func TestMeterNilObserverCostsNothing(t *testing.T) {
	m := NewMeter("aircall", "webhook", nil, nil, nil)
	ctx, start := context.Background(), time.Now()
	allocs := testing.AllocsPerRun(1000, func() {
		m.Answer(ctx, start, ResultAccepted, "", "", 200, "42", nil)
	})
	t.Logf("Meter.Answer without an Observer: %.0f allocations", allocs)
	assert.Zero(t, allocs)
	o := &countingObserver{}
	m = NewMeter("aircall", "webhook", nil, o, nil)
	m.Answer(ctx, start, ResultRejected, telephony.RejectUnauthorized, "", 401, "", errors.New("bad token"))
	m.Answer(ctx, start, ResultFallback, "", "timeout", 200, "1", nil)
	s := m.Stats()
	assert.Equal(t, 2, o.n)
	assert.Equal(t, int64(1), s.Rejected[telephony.RejectUnauthorized])
	assert.Equal(t, int64(1), s.FallbackTotal())
}

// Report fills the provider and handler, and survives a panicking hook.
func TestMeterReport(t *testing.T) {
	var got *telephony.HandlerError
	m := NewMeter("dialpad", "routing", nil, nil, func(_ context.Context, e *telephony.HandlerError) {
		got = e
		panic("the hook panicked")
	})
	boom := errors.New("boom")
	m.Report(context.Background(), &telephony.HandlerError{Call: &telephony.InboundCall{CallID: "7"}, Err: boom})
	require.NotNil(t, got)
	assert.Equal(t, "dialpad", got.Provider)
	assert.Equal(t, "routing", got.Handler)
	assert.Equal(t, "7", got.CallID)
	assert.ErrorIs(t, got, boom)
	assert.Equal(t, "dialpad routing: call 7: boom", got.Error())
}
