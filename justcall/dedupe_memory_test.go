package justcall_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Deliveries with huge attacker-chosen request_ids cost the dedupe store a
// fixed-size key each, not the id: the handler keeps hashes.
func TestWebhookDedupeKeysAreFixedSize(t *testing.T) {
	sim := newSim(t)
	h, err := justcall.NewWebhookHandler(func(context.Context, telephony.CallEvent) error { return nil },
		justcall.WebhookOptions{Secret: justcalltest.APISecret})
	require.NoError(t, err)
	srv := serve(t, h)
	const n, idLen = 100, 100 << 10
	at := time.Now()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range n {
		rid := fmt.Sprintf("%06d", i) + strings.Repeat("x", idLen)
		code, err := sim.SendWebhookAs(srv.URL, "call.missed", rid, at,
			map[string]any{"id": i + 1, "contact_number": customer, "justcall_number": from})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
	}
	drain(t, h)
	after := heap()
	per := (int64(after) - int64(before)) / n
	t.Logf("dedupe: %d deliveries with %d KB request_ids: heap grew %d bytes per delivery", n, idLen>>10, per)
	assert.Less(t, per, int64(4<<10), "bytes kept per delivery (the id alone is %d)", idLen)
	runtime.KeepAlive(h)
}
