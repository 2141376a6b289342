package telephony_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/telephony"
)

// R13: a client that sends its headers one byte at a time is cut off
// within ReadHeaderTimeout + 1 s.
func TestR13SlowlorisCutOff(t *testing.T) {
	testenv.Long(t)
	srv := telephony.NewServer("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	assert.LessOrEqual(t, srv.ReadHeaderTimeout, 2*time.Second, "timeouts %+v", srv)
	assert.LessOrEqual(t, srv.ReadTimeout, 5*time.Second, "timeouts %+v", srv)
	assert.LessOrEqual(t, srv.WriteTimeout, 6*time.Second, "timeouts %+v", srv)
	assert.NotZero(t, srv.IdleTimeout, "timeouts %+v", srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	conn, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	start := time.Now()
	req := "POST /route HTTP/1.1\r\nHost: x\r\nX-Slow: " + string(make([]byte, 64))
	closedAt := time.Duration(0)
	for i := 0; i < len(req); i++ {
		if _, err := conn.Write([]byte{req[i]}); err != nil {
			closedAt = time.Since(start)
			break
		}
		time.Sleep(500 * time.Millisecond)
		if time.Since(start) > 6*time.Second {
			break
		}
	}
	if closedAt == 0 {
		// The write may still succeed into the socket buffer: a read tells.
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 1)
		_, err := conn.Read(buf)
		require.Error(t, err, "connection still open")
		closedAt = time.Since(start)
	}
	t.Logf("R13 slowloris (1 byte / 500 ms): connection closed after %v (ReadHeaderTimeout %v)", closedAt.Round(time.Millisecond), srv.ReadHeaderTimeout)
	assert.LessOrEqual(t, closedAt, srv.ReadHeaderTimeout+time.Second+500*time.Millisecond, "closed after %v", closedAt)
}
