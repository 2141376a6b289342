package dialpad_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/telephony"
)

const watchdogSecret = "watchdog-test-secret-0123456789-abcdefghij"

// A RouteFunc that ignores its context and is still running when the
// budget ends: the fallback is answered anyway, before the RouteFunc
// returns — whether the handler runs it in the request's goroutine (a
// ResponseWriter that can flush) or in its own (one that cannot).
func TestRoutingLateRouteFuncAnsweredBeforeItReturns(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hideFlush bool
	}{{"flushing writer (inline)", false}, {"writer without Flush (goroutine)", true}} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			entered := make(chan struct{}, 1)
			h, err := dialpad.NewRoutingHandler(func(ctx context.Context, _ telephony.InboundCall) (telephony.Target, error) {
				entered <- struct{}{}
				<-release // ignores ctx
				return telephony.UserTarget("42"), nil
			}, dialpad.RoutingOptions{Secret: watchdogSecret, Budget: 200 * time.Millisecond, SendAction: true,
				Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: "9000"}})
			require.NoError(t, err)
			var handler http.Handler = h
			if tc.hideFlush {
				handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					h.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
				})
			}
			srv := httptest.NewServer(handler)
			defer srv.Close()
			defer close(release) // before srv.Close: the handler may still be inside the RouteFunc

			token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"call_id": 77, "date_started": 1712345678901}).
				SignedString([]byte(watchdogSecret))
			require.NoError(t, err)
			// The client gives up after 10 s: if the answer waited for the
			// RouteFunc (released only after the answer), it would never come.
			client := &http.Client{Timeout: 10 * time.Second}
			resp, err := client.Post(srv.URL, "application/jwt", bytes.NewReader([]byte(token)))
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.NoError(t, err)
			<-entered
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.JSONEq(t, `{"action":"route","target_id":9000,"target_type":"callcenter"}`, string(body))
			if !tc.hideFlush {
				assert.True(t, resp.Close, "a late answer closes the connection its handler still holds")
			}
			s := h.Stats()
			assert.EqualValues(t, 1, s.Fallbacks[dialpad.FallbackTimeout])
			assert.EqualValues(t, 0, s.Routed)
			assert.Zero(t, s.ErrorsLastHour, "answered inside the deadline")
		})
	}
}

// On the common path the RouteFunc's answer goes out normally, through a
// flushing writer, with no Connection: close.
func TestRoutingInlineAnswer(t *testing.T) {
	h, err := dialpad.NewRoutingHandler(func(ctx context.Context, c telephony.InboundCall) (telephony.Target, error) {
		_, ok := ctx.Deadline()
		assert.True(t, ok, "the RouteFunc's context carries the budget")
		return telephony.UserTarget("42"), nil
	}, dialpad.RoutingOptions{Secret: watchdogSecret, SendAction: true, Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: "9000"}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"call_id": 78}).SignedString([]byte(watchdogSecret))
	require.NoError(t, err)
	resp, err := srv.Client().Post(srv.URL, "application/jwt", bytes.NewReader([]byte(token)))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, `{"action":"route","target_id":42,"target_type":"user"}`, string(body))
	assert.False(t, resp.Close)
	assert.EqualValues(t, 1, h.Stats().Routed)
	require.NoError(t, h.Close(t.Context()))
}

// deliveries records what an Observer is told of inbound answers.
type deliveries struct {
	mu sync.Mutex
	ds []telephony.Delivery
}

func (o *deliveries) StartOperation(ctx context.Context, _ telephony.Operation) (context.Context, func(telephony.OperationResult)) {
	return ctx, func(telephony.OperationResult) {}
}

func (o *deliveries) StartAttempt(ctx context.Context, _ telephony.Operation, _ int) (context.Context, func(telephony.AttemptResult)) {
	return ctx, func(telephony.AttemptResult) {}
}

func (o *deliveries) Delivery(_ context.Context, d telephony.Delivery) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ds = append(o.ds, d)
}

// The fallback the watchdog answers for a late RouteFunc is counted once,
// reported to OnError once and told to the Observer once, with the latency
// of the answer (not of the RouteFunc).
func TestRoutingWatchdogReportsOnce(t *testing.T) {
	release := make(chan struct{})
	var obs deliveries
	var reported []*telephony.HandlerError
	var repMu sync.Mutex
	h, err := dialpad.NewRoutingHandler(func(ctx context.Context, _ telephony.InboundCall) (telephony.Target, error) {
		<-release // ignores ctx
		return telephony.UserTarget("42"), nil
	}, dialpad.RoutingOptions{Secret: watchdogSecret, Budget: 200 * time.Millisecond, Observer: &obs,
		OnError: func(_ context.Context, e *telephony.HandlerError) {
			repMu.Lock()
			defer repMu.Unlock()
			reported = append(reported, e)
		},
		Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: "9000"}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"call_id": 79}).SignedString([]byte(watchdogSecret))
	require.NoError(t, err)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Post(srv.URL, "application/jwt", bytes.NewReader([]byte(token)))
	if err != nil {
		close(release)
		srv.Close()
		require.NoError(t, err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.JSONEq(t, `{"target_id":9000,"target_type":"callcenter"}`, string(body))
	time.Sleep(time.Second) // the RouteFunc is late by far more than the answer
	close(release)
	srv.Close() // waits for the handler
	require.NoError(t, h.Close(t.Context()))

	s := h.Stats()
	assert.EqualValues(t, 1, s.Received)
	assert.EqualValues(t, 1, s.Fallbacks[dialpad.FallbackTimeout])
	assert.EqualValues(t, 0, s.Routed)
	repMu.Lock()
	require.Len(t, reported, 1)
	assert.Equal(t, "79", reported[0].CallID)
	assert.ErrorIs(t, reported[0].Err, context.DeadlineExceeded)
	repMu.Unlock()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.Len(t, obs.ds, 1)
	d := obs.ds[0]
	assert.Equal(t, "fallback", d.Result)
	assert.Equal(t, dialpad.FallbackTimeout, d.Decision)
	assert.Equal(t, http.StatusOK, d.Status)
	assert.Equal(t, "79", d.CallID)
	assert.Less(t, d.Latency, time.Second, "the latency of the fallback answer, not of the late RouteFunc")
}
