package redisstate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/redistest"
	"github.com/switchboard-go/switchboard/telephony"
)

// The caller -> last agent memory on Redis: what one replica's webhook
// handler recorded routes the caller on another; on memory stores each
// replica knows only its own events.
func TestReplicasShareLastAgent(t *testing.T) {
	opts := redistest.Options(t)
	redistest.Client(t)
	for _, kind := range []string{"redis", "memory"} {
		stores := replicaStores(t, kind, 2, opts)
		a := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: stores[0]})
		b := telephony.NewLastAgentMemory(telephony.LastAgentOptions{State: stores[1]})
		require.NoError(t, a.Record(nil)(t.Context(), telephony.CallEvent{Provider: telephony.ProviderDialpad, CallID: "1",
			Status: telephony.StatusCompleted, Direction: telephony.DirectionInbound, From: "+14155550100", AgentID: "1001"}))
		to, ok, err := b.Rule()(t.Context(), telephony.InboundCall{Provider: telephony.ProviderDialpad, From: "+14155550100"})
		require.NoError(t, err)
		t.Logf("%s: replica B routes the caller recorded on A: %v %v", kind, ok, to)
		if kind == "redis" {
			assert.True(t, ok)
			assert.Equal(t, telephony.UserTarget("1001"), to)
		} else {
			assert.False(t, ok, "memory stores are per process")
		}
	}
}
