package aircall

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// MaxPerPage is the largest page Aircall serves.
const MaxPerPage = 50

// MaxListRecords is Aircall's cap on any listing: even when paginating, no
// more than 10,000 records are returned. Narrow a larger listing with
// ListOptions.From and To.
const MaxListRecords = 10_000

// User is an Aircall user (an agent).
type User struct {
	ID                 int64    `json:"id"`
	DirectLink         string   `json:"direct_link,omitempty"`
	Name               string   `json:"name"`
	Email              string   `json:"email"`
	Available          bool     `json:"available"`
	AvailabilityStatus string   `json:"availability_status,omitempty"`
	Substatus          string   `json:"substatus,omitempty"`
	TimeZone           string   `json:"time_zone,omitempty"`
	Language           string   `json:"language,omitempty"`
	WrapUpTime         int      `json:"wrap_up_time,omitempty"`
	CreatedAt          string   `json:"created_at,omitempty"` // ISO 8601, as Aircall sends it
	Numbers            []Number `json:"numbers,omitempty"`    // filled by Get, not by List
}

// Number is an Aircall phone number.
type Number struct {
	ID         int64  `json:"id"`
	DirectLink string `json:"direct_link,omitempty"`
	Name       string `json:"name,omitempty"`
	// Digits is the number as Aircall formats it, often with spaces
	// ("+33 1 76 36 06 95"); E164 gives the compact form.
	Digits             string `json:"digits"`
	Country            string `json:"country,omitempty"`
	TimeZone           string `json:"time_zone,omitempty"`
	Open               bool   `json:"open,omitempty"`
	AvailabilityStatus string `json:"availability_status,omitempty"`
	IsIVR              bool   `json:"is_ivr,omitempty"`
}

// E164 returns Digits in E.164 form, without the spaces and punctuation
// Aircall adds (telephony.NormalizeNumber), or Digits when it is no number.
func (n Number) E164() string { return telephony.NormalizeNumber(n.Digits) }

// Meta is the pagination block of an Aircall listing.
type Meta struct {
	Count            int    `json:"count"`
	Total            int    `json:"total"`
	CurrentPage      int    `json:"current_page"`
	PerPage          int    `json:"per_page"`
	NextPageLink     string `json:"next_page_link"`
	PreviousPageLink string `json:"previous_page_link"`
}

// ListOptions narrows a listing. The zero value lists everything, 50 a page.
type ListOptions struct {
	// PerPage is the page size, at most MaxPerPage; zero means MaxPerPage
	// (fewest requests).
	PerPage int
	// Page is the first page to fetch; zero means 1.
	Page int
	// From and To keep records created in [From, To]; use them to split a
	// listing above MaxListRecords.
	From, To time.Time
	// Order is "asc" or "desc" by creation; empty is Aircall's default.
	Order string
}

func (o *ListOptions) query(op string) (url.Values, error) {
	q := url.Values{}
	per := MaxPerPage
	if o != nil {
		if o.PerPage < 0 || o.PerPage > MaxPerPage {
			return nil, telephony.InvalidArgument(telephony.ProviderAircall, op, "PerPage %d is outside 1..%d", o.PerPage, MaxPerPage)
		}
		if o.PerPage > 0 {
			per = o.PerPage
		}
		if o.Page < 0 {
			return nil, telephony.InvalidArgument(telephony.ProviderAircall, op, "Page %d is negative", o.Page)
		}
		if o.Page > 1 {
			q.Set("page", strconv.Itoa(o.Page))
		}
		if !o.From.IsZero() {
			q.Set("from", strconv.FormatInt(o.From.Unix(), 10))
		}
		if !o.To.IsZero() {
			q.Set("to", strconv.FormatInt(o.To.Unix(), 10))
		}
		switch o.Order {
		case "", "asc", "desc":
			if o.Order != "" {
				q.Set("order", o.Order)
			}
		default:
			return nil, telephony.InvalidArgument(telephony.ProviderAircall, op, "Order %q must be \"asc\" or \"desc\"", o.Order)
		}
	}
	q.Set("per_page", strconv.Itoa(per))
	return q, nil
}

// UsersService is the /v1/users resource and the cached email directory.
type UsersService struct {
	c   *Client
	dir *directory
}

// List iterates over the company's users, following meta.next_page_link
// as the loop advances; breaking out stops fetching. An error is yielded
// once and ends the sequence. Listed users carry no Numbers; Get does.
//
// Aircall serves at most MaxListRecords users per listing however it is
// paged: split a larger listing with ListOptions.From and To (FindByEmail's
// directory does). The listing never goes past the cap, whatever the server
// says: a page offered beyond it ends the listing with an error matching
// telephony.ErrUnsupported, and an answer holding more records than the cap
// allows ends it with one matching telephony.ErrBadResponse, instead of an
// endless stream.
//
// API: GET /v1/users
func (s *UsersService) List(ctx context.Context, opts *ListOptions) iter.Seq2[User, error] {
	return list[User, usersPage](ctx, s.c, "/v1/users", opts)
}

// Get returns one user with the numbers assigned to them.
//
// API: GET /v1/users/{id}
func (s *UsersService) Get(ctx context.Context, id int64) (*User, error) {
	const route = "/v1/users/{id}"
	if id <= 0 {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op(http.MethodGet, route), "user id %d must be positive", id)
	}
	var out struct {
		User User `json:"user"`
	}
	check := func() error {
		if out.User.ID != id {
			return fmt.Errorf("asked for user %d, the answer is about user %d", id, out.User.ID)
		}
		return nil
	}
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/v1/users/" + strconv.FormatInt(id, 10), Route: route, Out: &out, Check: check}); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// StartCallRequest is the body of Users.StartCall.
type StartCallRequest struct {
	// NumberID is the Aircall number to call from; it must be one of the
	// user's numbers (User.Numbers from Get).
	NumberID int64 `json:"number_id"`
	// To is the customer's number in E.164.
	To string `json:"to"`
}

// StartCall makes the user's Aircall app (Workspace or phone app) dial To
// from NumberID. Aircall answers with no body, so there is no call id: the
// call shows up in call.created webhooks and the call log.
//
// StartCall is never resent once it may have reached Aircall: a lost answer
// returns an error matching telephony.ErrOutcomeUnknown.
//
// API: POST /v1/users/{id}/calls
func (s *UsersService) StartCall(ctx context.Context, userID int64, req StartCallRequest) error {
	const route = "/v1/users/{id}/calls"
	o := op(http.MethodPost, route)
	switch {
	case userID <= 0:
		return telephony.InvalidArgument(telephony.ProviderAircall, o, "user id %d must be positive", userID)
	case req.NumberID <= 0:
		return telephony.InvalidArgument(telephony.ProviderAircall, o, "NumberID is required: one of the user's numbers (Users.Get(...).Numbers)")
	}
	if err := telephony.ValidateE164(req.To); err != nil {
		return telephony.InvalidArgument(telephony.ProviderAircall, o, "To: %v", err)
	}
	_, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost,
		Path: "/v1/users/" + strconv.FormatInt(userID, 10) + "/calls", Route: route, Body: req})
	return err
}

// FindByEmail returns the user with this email (ignoring case) from a cached
// directory of the company's users, so a lookup per inbound call costs no
// request while the directory is fresh. The directory is reloaded when older
// than its TTL (SetDirectoryOptions); concurrent lookups share one reload;
// an unknown email reloads it at most once per MinRefreshInterval, so a
// just-added agent is found without letting misses hammer the API. After a
// failed reload none starts for MinRefreshInterval either: meanwhile the
// last good directory still answers for the agents it holds, and other
// emails get the reload's error. An unknown email returns an error matching
// telephony.ErrNotFound; a lookup whose ctx ends while waiting for a reload
// returns a *telephony.Error that also matches ctx's error.
func (s *UsersService) FindByEmail(ctx context.Context, email string) (*User, error) {
	key := emailKey(email)
	if key == "" {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, "FindByEmail", "email is empty")
	}
	return s.dir.find(ctx, key)
}

// DirectoryOptions tunes the cached directory behind FindByEmail.
type DirectoryOptions struct {
	// TTL is how long a loaded directory is used before it is reloaded.
	// Zero means DefaultDirectoryTTL.
	TTL time.Duration
	// MinRefreshInterval is the least time between two reloads caused by an
	// unknown email. Zero means DefaultDirectoryMinRefresh.
	MinRefreshInterval time.Duration
}

// Directory defaults.
const (
	DefaultDirectoryTTL        = 5 * time.Minute
	DefaultDirectoryMinRefresh = 30 * time.Second
)

// SetDirectoryOptions changes the directory's TTL and miss-refresh interval.
func (s *UsersService) SetDirectoryOptions(o DirectoryOptions) {
	s.dir.setOptions(o)
}

// InvalidateDirectory drops the cached directory; the next FindByEmail
// reloads it.
func (s *UsersService) InvalidateDirectory() { s.dir.invalidate() }

// maxDirectoryWindows bounds the listings of one directory load (each
// ends at Aircall's cap and moves the creation window forward by at least a
// second): 10,000 windows are 100 million users.
const maxDirectoryWindows = 10_000

// listAll loads every user for the directory, in the fewest requests, past
// Aircall's cap of MaxListRecords per listing: it lists by creation time,
// oldest first, and when a listing stops at the cap starts the next one
// from the creation second of the last user it got (that second is listed
// again; users already seen are dropped). It fails, rather than returning a
// partial directory, when more than MaxListRecords users share one
// creation second or the users carry no usable created_at.
func (s *UsersService) listAll(ctx context.Context) ([]User, error) {
	var users []User
	seen := map[int64]bool{}
	var from time.Time
	for window := 0; window < maxDirectoryWindows; window++ {
		q, err := (&ListOptions{PerPage: MaxPerPage, From: from, Order: "asc"}).query("FindByEmail")
		if err != nil {
			return nil, err
		}
		var last time.Time
		served, capped, link := 0, false, ""
		for {
			page, meta, err := fetchPage[User, usersPage](ctx, s.c, "/v1/users", q, link)
			if err != nil {
				return nil, err
			}
			page, truncated, _ := capListing(served, page, meta, "/v1/users")
			served += len(page)
			for _, u := range page {
				if t, err := time.Parse(time.RFC3339, u.CreatedAt); err == nil && t.After(last) {
					last = t
				}
				if !seen[u.ID] {
					seen[u.ID] = true
					users = append(users, u)
				}
			}
			if truncated {
				capped = true
				break
			}
			if meta.NextPageLink == "" || served >= MaxListRecords {
				break
			}
			if len(page) == 0 {
				return nil, &telephony.Error{Kind: telephony.ErrBadResponse, Provider: telephony.ProviderAircall, Op: "GET /v1/users",
					Message: "an empty page offered a next page"}
			}
			link = meta.NextPageLink
		}
		if !capped {
			return users, nil
		}
		next := last.Truncate(time.Second)
		if last.IsZero() || !next.After(from) {
			return nil, &telephony.Error{Kind: telephony.ErrUnsupported, Provider: telephony.ProviderAircall, Op: "FindByEmail",
				Message: fmt.Sprintf("the user directory cannot be loaded past Aircall's cap of %d records per listing: "+
					"more than that many users were created in the same second, or users carry no created_at", MaxListRecords)}
		}
		from = next
	}
	return nil, &telephony.Error{Kind: telephony.ErrUnsupported, Provider: telephony.ProviderAircall, Op: "FindByEmail",
		Message: fmt.Sprintf("the user directory needs more than %d listings", maxDirectoryWindows)}
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
