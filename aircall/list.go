package aircall

import (
	"context"
	"iter"
	"net/http"

	"github.com/switchboard-go/switchboard/internal/paginate"
	"github.com/switchboard-go/switchboard/internal/transport"
)

// page is one page of an Aircall listing: its records, under the key the
// resource names ("users", "teams"), and meta.
type page[T any] interface {
	records() []T
	nextLink() string
}

// list iterates over GET route with opts, following meta.next_page_link as
// the loop advances. P is the page's JSON envelope.
func list[T any, P any, PP interface {
	*P
	page[T]
}](ctx context.Context, c *Client, route string, opts *ListOptions) iter.Seq2[T, error] {
	q, err := opts.query(op(http.MethodGet, route))
	if err != nil {
		return func(yield func(T, error) bool) { var zero T; yield(zero, err) }
	}
	return paginate.NextLink(ctx, func(ctx context.Context, link string) ([]T, string, error) {
		out := PP(new(P))
		req := &transport.Request{Method: http.MethodGet, Path: route, Route: route, Query: q, Out: out}
		if link != "" {
			req = &transport.Request{Method: http.MethodGet, URL: link, Route: route, Out: out}
		}
		if _, err := c.t.Do(ctx, req); err != nil {
			return nil, "", err
		}
		return out.records(), out.nextLink(), nil
	})
}

type usersPage struct {
	Users []User `json:"users"`
	Meta  Meta   `json:"meta"`
}

func (p *usersPage) records() []User  { return p.Users }
func (p *usersPage) nextLink() string { return p.Meta.NextPageLink }

type availabilitiesPage struct {
	Users []Availability `json:"users"`
	Meta  Meta           `json:"meta"`
}

func (p *availabilitiesPage) records() []Availability { return p.Users }
func (p *availabilitiesPage) nextLink() string        { return p.Meta.NextPageLink }

type teamsPage struct {
	Teams []Team `json:"teams"`
	Meta  Meta   `json:"meta"`
}

func (p *teamsPage) records() []Team  { return p.Teams }
func (p *teamsPage) nextLink() string { return p.Meta.NextPageLink }
