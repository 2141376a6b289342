package state

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryClaims(t *testing.T) {
	m := newMemoryClaims(3)
	now := time.Unix(0, 0)
	m.now = func() time.Time { return now }
	ctx := context.Background()
	k := func(s string) Key { return KeyOf(s) }
	first, err := m.Claim(ctx, k("a"), time.Hour)
	require.NoError(t, err)
	assert.True(t, first, "first claim")
	first, _ = m.Claim(ctx, k("a"), time.Hour)
	assert.False(t, first, "second claim of a held key")
	for _, s := range []string{"b", "c", "d"} {
		_, _ = m.Claim(ctx, k(s), time.Hour)
	}
	assert.LessOrEqual(t, m.Len(), 3, "bounded")
	first, _ = m.Claim(ctx, k("a"), time.Hour)
	assert.True(t, first, "the oldest was evicted past the bound")
	now = now.Add(2 * time.Hour)
	first, _ = m.Claim(ctx, k("d"), time.Hour)
	assert.True(t, first, "an expired claim is taken again")
	require.NoError(t, m.Release(ctx, k("d")))
	first, _ = m.Claim(ctx, k("d"), time.Hour)
	assert.True(t, first, "a released claim is taken again")
}

func TestMemoryValues(t *testing.T) {
	m := newMemoryValues(2)
	now := time.Unix(0, 0)
	m.now = func() time.Time { return now }
	ctx := context.Background()
	require.NoError(t, m.Set(ctx, KeyOf("a"), []byte("1"), time.Minute))
	v, ok, err := m.Get(ctx, KeyOf("a"))
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "1", string(v))
	require.NoError(t, m.Set(ctx, KeyOf("b"), []byte("2"), time.Minute))
	require.NoError(t, m.Set(ctx, KeyOf("c"), []byte("3"), time.Minute))
	_, ok, _ = m.Get(ctx, KeyOf("a"))
	assert.False(t, ok, "oldest evicted past the bound")
	now = now.Add(2 * time.Minute)
	_, ok, _ = m.Get(ctx, KeyOf("c"))
	assert.False(t, ok, "expired")
}

// SetIfAbsent stores only into an empty or expired slot.
func TestMemoryValuesSetIfAbsent(t *testing.T) {
	m := newMemoryValues(10)
	now := time.Unix(0, 0)
	m.now = func() time.Time { return now }
	ctx := context.Background()
	stored, err := m.SetIfAbsent(ctx, KeyOf("a"), []byte("history"), time.Minute)
	require.NoError(t, err)
	assert.True(t, stored, "an empty slot")
	require.NoError(t, m.Set(ctx, KeyOf("a"), []byte("event"), time.Minute))
	stored, err = m.SetIfAbsent(ctx, KeyOf("a"), []byte("late history"), time.Minute)
	require.NoError(t, err)
	assert.False(t, stored, "a value is there")
	v, _, _ := m.Get(ctx, KeyOf("a"))
	assert.Equal(t, "event", string(v), "kept")
	now = now.Add(2 * time.Minute)
	stored, _ = m.SetIfAbsent(ctx, KeyOf("a"), []byte("new"), time.Minute)
	assert.True(t, stored, "an expired value does not count")
	v, _, _ = m.Get(ctx, KeyOf("a"))
	assert.Equal(t, "new", string(v))
}

func TestKeyOfIsLengthPrefixed(t *testing.T) {
	assert.NotEqual(t, KeyOf("ab", "c"), KeyOf("a", "bc"))
	assert.Equal(t, KeyOf("a", "b"), KeyOf("a", "b"))
	assert.Len(t, KeyOf("x").String(), 64)
}

// Five concurrent deliveries of one key: one side effect.
func TestMemoryClaimsConcurrent(t *testing.T) {
	m := newMemoryClaims(MaxMemoryClaims)
	var effects atomic.Int64
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if first, _ := m.Claim(context.Background(), KeyOf("req-1"), time.Hour); first {
				effects.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(1), effects.Load(), "side effects")
}
