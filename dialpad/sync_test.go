package dialpad_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Sync mode against the simulator, which retries a 5xx as Dialpad does:
// the EventFunc fails once, the delivery is answered 500, and Dialpad's
// retry is processed.
func TestWebhookSyncWithDialpadRetries(t *testing.T) {
	_, sim := newTestClient(t)
	sim.SetEventRetryDelay(20 * time.Millisecond) // Dialpad waits 2 s
	var calls, hangups atomic.Int64
	h, err := dialpad.NewWebhookHandler(func(_ context.Context, ev telephony.CallEvent) error {
		if ev.Type != "hangup" {
			return nil
		}
		if calls.Add(1) == 1 {
			return errors.New("database unavailable")
		}
		hangups.Add(1)
		return nil
	}, dialpad.WebhookOptions{Secret: testSecret, Sync: true})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	sim.AddWebhook(srv.URL, testSecret)
	call := sim.AddCall(dialpadtest.Call{Direction: "inbound", State: "ringing", ExternalNumber: "+14155550123"})
	require.NoError(t, sim.SetCallState(call.ID, "hangup"))
	sim.FlushEvents()
	require.NoError(t, h.Close(t.Context()))
	var attempts, status int
	for _, d := range sim.Deliveries() {
		if d.State == "hangup" {
			attempts, status = d.Attempts, d.Status
		}
	}
	s := h.Stats()
	t.Logf("sync with Dialpad's retries: hangup delivered in %d attempts, final status %d; processed=%d stats=%+v",
		attempts, status, hangups.Load(), s)
	assert.Equal(t, 2, attempts, "attempts: a 500, then the retry")
	assert.Equal(t, 200, status, "final status")
	assert.Equal(t, int64(1), hangups.Load(), "hangups processed")
	assert.Equal(t, int64(1), s.Failed, "stats %+v", s)
}
