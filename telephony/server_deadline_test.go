package telephony_test

import (
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// A click-to-call endpoint served by NewServer whose Dialpad per-user wait
// outlasts the server's write timeout places no call: the handler's
// context ends before the write deadline, so a wait that would outlast it
// is refused at once and nothing is sent. (Before, the handler slept 12 s
// and placed the call after the client had got EOF.)
func TestServerContextEndsBeforeWriteDeadline(t *testing.T) {
	sim := dialpadtest.NewServer()
	defer sim.Close()
	user := sim.SeedUsers(1)[0]
	dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(sim.URL()), telephony.WithMaxRetryWait(time.Minute))
	require.NoError(t, err)
	for i := range dialpad.CallsPerUserPerMinute { // spend the user's slots
		_, err := dp.Calls.Initiate(t.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: user.ID})
		require.NoError(t, err, "dial %d", i)
	}
	var handlerErr atomic.Value
	var returnedAfter atomic.Int64
	srv := telephony.NewServer("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		_, err := dp.Calls.Initiate(r.Context(), dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: user.ID})
		returnedAfter.Store(int64(time.Since(start)))
		if err != nil {
			handlerErr.Store(err)
			http.Error(w, "not placed", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	srv.WriteTimeout = time.Second // the next slot is ~12 s away
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	resp, err := http.Post("http://"+l.Addr().String()+"/dial", "application/json", nil)
	require.NoError(t, err, "the answer arrives before the write deadline")
	resp.Body.Close()
	err, _ = handlerErr.Load().(error)
	after := time.Duration(returnedAfter.Load())
	t.Logf("per-user wait past the write timeout (1s): handler returned after %v with %v; answer %d; POSTs %d",
		after.Round(time.Millisecond), err, resp.StatusCode, sim.Count(http.MethodPost, "/api/v2/call"))
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "the handler could still answer")
	// The wait would outlast the request's deadline: refused at once,
	// saying when the slot frees up, instead of sleeping past it.
	assert.True(t, errors.Is(err, telephony.ErrRateLimited), "refused within the request's deadline: %v", err)
	assert.Less(t, after, time.Second, "returned before the write deadline")
	assert.Equal(t, dialpad.CallsPerUserPerMinute, sim.Count(http.MethodPost, "/api/v2/call"), "no call placed after the deadline")
}
