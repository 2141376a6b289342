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
	"iter"
)

// MaxPages bounds one walk, so a provider that keeps answering "more" can
// never loop a caller forever.
const MaxPages = 100_000

// Seq walks pages starting at token first. fetch returns one page's items,
// the next token and whether there is a next page. A next token equal to one
// already fetched ends the walk with an error instead of looping.
func Seq[T any, K comparable](ctx context.Context, first K, fetch func(ctx context.Context, token K) (items []T, next K, more bool, err error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		token := first
		seen := map[K]struct{}{}
		for page := 0; ; page++ {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			if page >= MaxPages {
				yield(zero, fmt.Errorf("paginate: stopped after %d pages", MaxPages))
				return
			}
			if _, dup := seen[token]; dup {
				yield(zero, fmt.Errorf("paginate: the provider returned page token %v twice; stopping to avoid a loop", token))
				return
			}
			seen[token] = struct{}{}
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
