package aircall

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/switchboard-go/switchboard/internal/paginate"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// page is one page of an Aircall listing: its records, under the key the
// resource names ("users", "teams"), and meta.
type page[T any] interface {
	records() []T
	meta() Meta
}

// list iterates over GET route with opts, following meta.next_page_link as
// the loop advances, and never past Aircall's cap of MaxListRecords (see
// listQuery). P is the page's JSON envelope.
func list[T any, P any, PP interface {
	*P
	page[T]
}](ctx context.Context, c *Client, route string, opts *ListOptions) iter.Seq2[T, error] {
	q, err := opts.query(op(http.MethodGet, route))
	if err != nil {
		return func(yield func(T, error) bool) { var zero T; yield(zero, err) }
	}
	return listQuery[T, P, PP](ctx, c, route, q, opts.skipped())
}

// listQuery is list with a ready query, whose first page follows first
// records of the listing. It follows meta.next_page_link and never goes
// past the cap, whatever the server says: a page offered beyond it ends
// the listing with an error matching telephony.ErrUnsupported, and an
// answer holding more records than the cap allows is cut there and ends it
// with one matching telephony.ErrBadResponse, instead of an endless stream.
func listQuery[T any, P any, PP interface {
	*P
	page[T]
}](ctx context.Context, c *Client, route string, q url.Values, first int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		served := first
		var stop error // the error to yield after the page that reached the cap
		for r, err := range paginate.NextLink(ctx, func(ctx context.Context, link string) ([]T, string, error) {
			if link == capReached {
				return nil, "", stop
			}
			items, meta, err := fetchPage[T, P, PP](ctx, c, route, q, link)
			if err != nil {
				return nil, "", err
			}
			items, _, stop = capListing(served, items, meta, route)
			served += len(items)
			if stop != nil {
				return items, capReached, nil
			}
			if served >= MaxListRecords {
				return items, "", nil
			}
			return items, meta.NextPageLink, nil
		}) {
			if !yield(r, err) {
				return
			}
		}
	}
}

// fetchPage fetches one page of GET route: the first with q, later ones by
// link.
func fetchPage[T any, P any, PP interface {
	*P
	page[T]
}](ctx context.Context, c *Client, route string, q url.Values, link string) ([]T, Meta, error) {
	out := PP(new(P))
	req := &transport.Request{Method: http.MethodGet, Path: route, Route: route, Query: q, Out: out}
	if link != "" {
		req = &transport.Request{Method: http.MethodGet, URL: link, Route: route, Out: out}
	}
	if _, err := c.t.Do(ctx, req); err != nil {
		return nil, Meta{}, err
	}
	return out.records(), out.meta(), nil
}

// capReached is the pseudo link that makes a listing yield its cap error
// after the last page's records.
const capReached = "\x00aircall-listing-cap"

// capListing applies Aircall's MaxListRecords cap to a page of GET route
// that follows served records: it returns the records within the cap,
// whether the cap cut the listing short (more records match than it
// served), and the error that must end the listing when the answer went
// past the cap or offered a page beyond it.
func capListing[T any](served int, items []T, meta Meta, route string) ([]T, bool, error) {
	if over := served + len(items) - MaxListRecords; over > 0 {
		return items[:max(len(items)-over, 0)], true, &telephony.Error{Kind: telephony.ErrBadResponse, Provider: telephony.ProviderAircall, Op: op(http.MethodGet, route),
			Message: fmt.Sprintf("the answer goes past the %d records Aircall serves per listing; stopped there", MaxListRecords)}
	}
	if served+len(items) < MaxListRecords {
		return items, false, nil
	}
	if meta.NextPageLink != "" {
		return items, true, &telephony.Error{Kind: telephony.ErrUnsupported, Provider: telephony.ProviderAircall, Op: op(http.MethodGet, route),
			Message: fmt.Sprintf("a page past Aircall's cap of %d records per listing was offered; stopped at the cap: split the listing with ListOptions.From and To", MaxListRecords)}
	}
	return items, meta.Total > MaxListRecords, nil
}

// skipped is how many records of the listing come before its first page.
func (o *ListOptions) skipped() int {
	if o == nil || o.Page <= 1 {
		return 0
	}
	per := MaxPerPage
	if o.PerPage > 0 {
		per = o.PerPage
	}
	return (o.Page - 1) * per
}

type usersPage struct {
	Users []User `json:"users"`
	Meta  Meta   `json:"meta"`
}

func (p *usersPage) records() []User { return p.Users }
func (p *usersPage) meta() Meta      { return p.Meta }

type availabilitiesPage struct {
	Users []Availability `json:"users"`
	Meta  Meta           `json:"meta"`
}

func (p *availabilitiesPage) records() []Availability { return p.Users }
func (p *availabilitiesPage) meta() Meta              { return p.Meta }

type teamsPage struct {
	Teams []Team `json:"teams"`
	Meta  Meta   `json:"meta"`
}

func (p *teamsPage) records() []Team { return p.Teams }
func (p *teamsPage) meta() Meta      { return p.Meta }
