package paginate

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A provider whose cursors run 0..999 and then back to 500 is caught, long
// cycle or not, after a bounded number of pages.
func TestLoopGuardCatchesLongCycle(t *testing.T) {
	for _, tc := range []struct{ start, length int }{{0, 1}, {3, 2}, {500, 500}, {10, 20_000}} {
		t.Run(fmt.Sprintf("mu=%d,lambda=%d", tc.start, tc.length), func(t *testing.T) {
			fetches := 0
			next := func(i int) int {
				if i+1 >= tc.start+tc.length {
					return tc.start
				}
				return i + 1
			}
			var err error
			items := 0
			for _, e := range Seq(t.Context(), 0, func(_ context.Context, tok int) ([]int, int, bool, error) {
				fetches++
				return []int{tok}, next(tok), true, nil
			}) {
				if e != nil {
					err = e
					break
				}
				items++
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "twice")
			assert.LessOrEqual(t, fetches, 4*(tc.start+tc.length)+recentTokens+2, "pages fetched before the loop was caught")
			assert.GreaterOrEqual(t, fetches, tc.start+tc.length, "no page is refused before the cycle closes")
		})
	}
}

// The guard's memory does not grow with the listing: walking 100,000 pages
// with 200-byte cursors keeps no cursor alive.
func TestLoopGuardMemoryBounded(t *testing.T) {
	const pages = MaxPages - 1
	pad := strings.Repeat("x", 200)
	var before, mid runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	for _, err := range Cursor(t.Context(), func(_ context.Context, cur string) ([]int, string, error) {
		n++
		if n == pages/2 {
			runtime.GC()
			runtime.ReadMemStats(&mid)
		}
		if n == pages {
			return []int{n}, "", nil
		}
		return []int{n}, fmt.Sprintf("%s-%d", pad, n), nil
	}) {
		require.NoError(t, err)
	}
	growth := int64(mid.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("loop guard: %d pages with 200-byte cursors, live heap growth at the midpoint %d KiB", n, growth/1024)
	assert.Equal(t, pages, n)
	assert.Less(t, growth, int64(1<<20), "live heap grew with the number of pages")
}
