package paginate

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pages serves n items in pages of size and counts fetches.
func pages(n, size int, fetches *int) func(ctx context.Context, page int) ([]int, bool, error) {
	return func(ctx context.Context, page int) ([]int, bool, error) {
		*fetches++
		var out []int
		for i := (page - 1) * size; i < n && i < page*size; i++ {
			out = append(out, i)
		}
		return out, page*size < n, nil
	}
}

func TestPageNumberCounts(t *testing.T) {
	for _, tc := range []struct{ n, size, wantFetches int }{{0, 10, 1}, {1, 10, 1}, {10, 10, 1}, {11, 10, 2}, {95, 10, 10}} {
		var fetches, got int
		for v, err := range PageNumber(t.Context(), 1, pages(tc.n, tc.size, &fetches)) {
			require.NoError(t, err, "item %d", got)
			require.Equal(t, got, v, "item %d", got)
			got++
		}
		assert.Equal(t, tc.n, got, "n=%d: got %d items in %d fetches, want %d items", tc.n, got, fetches, tc.n)
		assert.Equal(t, tc.wantFetches, fetches, "n=%d: got %d items in %d fetches, want %d fetches", tc.n, got, fetches, tc.wantFetches)
	}
}

func TestBreakStopsFetching(t *testing.T) {
	var fetches int
	for v := range PageNumber(t.Context(), 1, pages(1000, 10, &fetches)) {
		if v == 14 {
			break
		}
	}
	assert.Equal(t, 2, fetches, "fetched %d pages after breaking on page 2", fetches)
}

func TestErrorYieldedOnce(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	seq := Cursor(t.Context(), func(ctx context.Context, cursor string) ([]string, string, error) {
		calls++
		if cursor == "" {
			return []string{"a"}, "c1", nil
		}
		return nil, "", boom
	})
	var errs, items int
	for _, err := range seq {
		if err != nil {
			errs++
			require.ErrorIs(t, err, boom)
			continue
		}
		items++
	}
	assert.Equal(t, 1, errs, "errs=%d items=%d calls=%d", errs, items, calls)
	assert.Equal(t, 1, items, "errs=%d items=%d calls=%d", errs, items, calls)
	assert.Equal(t, 2, calls, "errs=%d items=%d calls=%d", errs, items, calls)
}

func TestRepeatedCursorStops(t *testing.T) {
	var last error
	for _, err := range Cursor(t.Context(), func(ctx context.Context, cursor string) ([]int, string, error) {
		return []int{1}, "same", nil
	}) {
		last = err
	}
	assert.Error(t, last, "a repeating cursor looped without error")
}

func TestContextEndsWalk(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got error
	for v, err := range NextLink(ctx, func(ctx context.Context, link string) ([]int, string, error) {
		return []int{1}, fmt.Sprintf("%s/next", link), nil
	}) {
		if err != nil {
			got = err
			break
		}
		_ = v
		cancel()
	}
	assert.ErrorIs(t, got, context.Canceled)
}
