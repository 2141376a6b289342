package dialpad

import (
	"context"
	"iter"
	"net/http"
	"net/url"

	"github.com/switchboard-go/switchboard/internal/paginate"
	"github.com/switchboard-go/switchboard/internal/transport"
)

// listCursor iterates over a Dialpad listing (GET path with q), following
// its cursor: one copy of the loop every listing shares. Breaking out of
// the loop stops fetching; an error is yielded once and ends the sequence.
func listCursor[T any](ctx context.Context, c *Client, path string, q url.Values) iter.Seq2[T, error] {
	return paginate.Cursor(ctx, func(ctx context.Context, cursor string) ([]T, string, error) {
		return cursorPage[T](ctx, c, path, q, cursor)
	})
}

// cursorPage fetches one page of a cursor listing: {"cursor": ..., "items": [...]}.
func cursorPage[T any](ctx context.Context, c *Client, path string, q url.Values, cursor string) ([]T, string, error) {
	page := cloneQuery(q)
	if cursor != "" {
		page.Set("cursor", cursor)
	}
	var out struct {
		Cursor string `json:"cursor"`
		Items  []T    `json:"items"`
	}
	_, err := c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: path, Query: page, Out: &out})
	return out.Items, out.Cursor, err
}

// cloneQuery copies q, with room for the cursor.
func cloneQuery(q url.Values) url.Values {
	out := make(url.Values, len(q)+1)
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
