package redisstate

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/internal/redistest"
	"github.com/switchboard-go/switchboard/telephony/state"
)

func TestClaimAcrossStores(t *testing.T) {
	stores, c, prefix := limStores(t, 2)
	ctx := context.Background()
	key := state.KeyOf("aircall", "delivery", "42")

	ok, err := stores[0].Claims().Claim(ctx, key, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "the first claim takes the key")
	ok, err = stores[1].Claims().Claim(ctx, key, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "another replica's claim finds it held")
	ok, err = stores[0].Claims().Claim(ctx, key, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "and so does the same replica's")

	ok, err = stores[1].Claims().Claim(ctx, state.KeyOf("aircall", "delivery", "43"), time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "another key is another claim")

	// The key is the claim's hash, with its TTL.
	ttl, err := c.PTTL(ctx, prefix+"claim:"+key.String()).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 50*time.Second)
	assert.LessOrEqual(t, ttl, time.Minute)
}

func TestClaimRelease(t *testing.T) {
	stores, _, _ := limStores(t, 2)
	ctx := context.Background()
	key := state.KeyOf("transfer", "call-7")

	ok, err := stores[0].Claims().Claim(ctx, key, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, stores[1].Claims().Release(ctx, key))
	ok, err = stores[1].Claims().Claim(ctx, key, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "released: taken again")
	ok, err = stores[0].Claims().Claim(ctx, key, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.NoError(t, stores[0].Claims().Release(ctx, state.KeyOf("never claimed")), "releasing a free key is fine")
}

func TestClaimExpires(t *testing.T) {
	stores, _, _ := limStores(t, 1)
	cl := stores[0].Claims()
	ctx := context.Background()
	key := state.KeyOf("short")

	ok, err := cl.Claim(ctx, key, 20*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = cl.Claim(ctx, key, 20*time.Millisecond)
	require.NoError(t, err)
	require.False(t, ok)
	time.Sleep(50 * time.Millisecond)
	ok, err = cl.Claim(ctx, key, time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "the TTL ended: taken again")

	// A TTL under a millisecond still expires (Redis's least is 1ms).
	ok, err = cl.Claim(ctx, state.KeyOf("tiny"), time.Microsecond)
	require.NoError(t, err)
	assert.True(t, ok)
	time.Sleep(20 * time.Millisecond)
	ok, err = cl.Claim(ctx, state.KeyOf("tiny"), time.Microsecond)
	require.NoError(t, err)
	assert.True(t, ok)
}

func BenchmarkClaim(b *testing.B) {
	stores, _, _ := limStores(b, 1)
	cl := stores[0].Claims()
	ctx := context.Background()
	keys := make([]state.Key, b.N)
	for i := range keys {
		keys[i] = state.KeyOf("bench", strconv.Itoa(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ok, err := cl.Claim(ctx, keys[i], time.Minute)
		if err != nil || !ok {
			b.Fatalf("claim %d: %v, %v", i, ok, err)
		}
	}
}

func TestValuesAcrossStores(t *testing.T) {
	opts := redistest.Options(t)
	redistest.Client(t)
	prefix := redistest.Prefix(t)
	var stores []*state.Store
	for range 2 {
		c := redis.NewClient(opts)
		t.Cleanup(func() { _ = c.Close() })
		st, err := New(c, Options{Prefix: prefix})
		require.NoError(t, err)
		stores = append(stores, st)
	}
	k := state.KeyOf("last-agent", "+14155550100")
	_, ok, err := stores[1].Values().Get(t.Context(), k)
	require.NoError(t, err)
	assert.False(t, ok, "nothing set yet")
	require.NoError(t, stores[0].Values().Set(t.Context(), k, []byte("agent-7"), 50*time.Millisecond))
	v, ok, err := stores[1].Values().Get(t.Context(), k)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "agent-7", string(v), "seen by the other replica")
	time.Sleep(80 * time.Millisecond)
	_, ok, err = stores[1].Values().Get(t.Context(), k)
	require.NoError(t, err)
	assert.False(t, ok, "expired")

	// SetIfAbsent: one replica's late cache fill does not overwrite what
	// another replica set meanwhile.
	stored, err := stores[0].Values().SetIfAbsent(t.Context(), k, []byte("history"), time.Minute)
	require.NoError(t, err)
	assert.True(t, stored, "an empty slot")
	require.NoError(t, stores[1].Values().Set(t.Context(), k, []byte("event"), time.Minute))
	stored, err = stores[0].Values().SetIfAbsent(t.Context(), k, []byte("late history"), time.Minute)
	require.NoError(t, err)
	assert.False(t, stored, "the other replica's value is there")
	v, _, err = stores[0].Values().Get(t.Context(), k)
	require.NoError(t, err)
	assert.Equal(t, "event", string(v), "kept")
}
