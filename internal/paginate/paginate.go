// Package paginate turns one-page-at-a-time fetch functions into
// iter.Seq2 sequences for the three pagination styles the providers use:
// page numbers (JustCall, Aircall), opaque cursors (Dialpad) and next-page
// links (Aircall's meta.next_page_link).
//
// The sequences fetch lazily, in the caller's goroutine: breaking out of the
// loop stops fetching at once, no goroutine is started, and an error is
// yielded once and ends the sequence.
package paginate

import (
	"context"
	"fmt"
	"hash/maphash"
	"iter"
)

// MaxPages bounds one walk, so a provider that keeps answering "more" can
// never loop a caller forever.
const MaxPages = 100_000

// recentTokens is how many recent page tokens the loop guard remembers
// (as 64-bit hashes); longer cycles are caught by Brent's algorithm.
const recentTokens = 64

// loopGuard detects a provider that sends a page token it already sent, in
// bounded memory: the hashes of the last recentTokens tokens catch a short
// cycle at once, and Brent's cycle detection (one remembered hash, compared
// with every later one, replaced at each power of two) catches a cycle of
// any length within a few times its length plus its start. Memory does not
// grow with the listing: the old guard kept every token (hundreds of KiB
// for a million users).
type loopGuard[K comparable] struct {
	seed   maphash.Seed
	recent [recentTokens]uint64
	n      int // tokens seen
	mark   uint64
	power  int
	steps  int
}

// seen records token and reports whether the walk has met it before.
func (g *loopGuard[K]) seen(token K) bool {
	if g.n == 0 {
		g.seed, g.power = maphash.MakeSeed(), 1
	}
	h := maphash.Comparable(g.seed, token)
	for i := range min(g.n, recentTokens) {
		if g.recent[i] == h {
			return true
		}
	}
	if g.n > 0 && h == g.mark {
		return true
	}
	g.recent[g.n%recentTokens] = h
	g.n++
	if g.steps++; g.steps >= g.power {
		g.mark, g.steps, g.power = h, 0, g.power*2
	}
	return false
}

// Seq walks pages starting at token first. fetch returns one page's items,
// the next token and whether there is a next page. A next token equal to one
// already fetched ends the walk with an error instead of looping (detected
// in bounded memory; a long cycle may yield some pages twice before it is
// caught), and so does a walk past MaxPages.
func Seq[T any, K comparable](ctx context.Context, first K, fetch func(ctx context.Context, token K) (items []T, next K, more bool, err error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		token := first
		var guard loopGuard[K]
		for page := 0; ; page++ {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			if page >= MaxPages {
				yield(zero, fmt.Errorf("paginate: stopped after %d pages", MaxPages))
				return
			}
			if guard.seen(token) {
				yield(zero, fmt.Errorf("paginate: the provider returned page token %v twice; stopping to avoid a loop", token))
				return
			}
			items, next, more, err := fetch(ctx, token)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if !more {
				return
			}
			token = next
		}
	}
}

// PageNumber walks numbered pages from start. fetch reports whether a later
// page exists.
func PageNumber[T any](ctx context.Context, start int, fetch func(ctx context.Context, page int) (items []T, more bool, err error)) iter.Seq2[T, error] {
	return Seq(ctx, start, func(ctx context.Context, page int) ([]T, int, bool, error) {
		items, more, err := fetch(ctx, page)
		return items, page + 1, more, err
	})
}

// Cursor walks opaque cursors: the first fetch gets "", and the walk ends
// when fetch returns an empty next cursor.
func Cursor[T any](ctx context.Context, fetch func(ctx context.Context, cursor string) (items []T, next string, err error)) iter.Seq2[T, error] {
	return Seq(ctx, "", func(ctx context.Context, cursor string) ([]T, string, bool, error) {
		items, next, err := fetch(ctx, cursor)
		return items, next, err == nil && next != "", err
	})
}

// NextLink walks next-page links: the first fetch gets "", later ones the
// link the previous page returned; an empty link ends the walk.
func NextLink[T any](ctx context.Context, fetch func(ctx context.Context, link string) (items []T, next string, err error)) iter.Seq2[T, error] {
	return Cursor(ctx, fetch)
}
