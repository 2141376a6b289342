package dialpad

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/telephony"
)

// Email lookups are cached so that routing an inbound call to "the agent
// with this email" costs no request most of the time: the routing answer has
// to be back at Dialpad within 5 seconds.
const (
	// DefaultEmailCacheTTL is how long FindByEmail remembers a user.
	DefaultEmailCacheTTL = 5 * time.Minute
	// notFoundTTL is how long "no such user" is remembered: shorter, so a
	// newly added agent is found soon.
	notFoundTTL = 30 * time.Second
	// maxEmailCache bounds the cache.
	maxEmailCache = 10_000
)

// User is a Dialpad user (UserProto). IDs decode from JSON numbers and from
// numeric strings.
type User struct {
	ID             int64    `json:"id"`
	DisplayName    string   `json:"display_name,omitempty"`
	FirstName      string   `json:"first_name,omitempty"`
	LastName       string   `json:"last_name,omitempty"`
	Emails         []string `json:"emails,omitempty"`
	PhoneNumbers   []string `json:"phone_numbers,omitempty"`
	Extension      string   `json:"extension,omitempty"`
	OfficeID       int64    `json:"office_id,omitempty"`
	CompanyID      int64    `json:"company_id,omitempty"`
	AdminOfficeIDs []int64  `json:"admin_office_ids,omitempty"`
	// State is active, cancelled, deleted, pending or suspended.
	State        string `json:"state,omitempty"`
	License      string `json:"license,omitempty"`
	IsAdmin      bool   `json:"is_admin,omitempty"`
	IsSuperAdmin bool   `json:"is_super_admin,omitempty"`
	// IsAvailable: the user is not on a call.
	IsAvailable bool `json:"is_available,omitempty"`
	// IsOnline: the user has an active Dialpad device.
	IsOnline bool `json:"is_online,omitempty"`
	// IsOnDuty: the user is acting as a call center operator.
	IsOnDuty bool `json:"is_on_duty,omitempty"`
	// OnDutyStatus is available, busy, occupied, occupied-end, unavailable,
	// wrapup or wrapup-end.
	OnDutyStatus      string   `json:"on_duty_status,omitempty"`
	DoNotDisturb      bool     `json:"do_not_disturb,omitempty"`
	StatusMessage     string   `json:"status_message,omitempty"`
	ForwardingNumbers []string `json:"forwarding_numbers,omitempty"`
	Timezone          string   `json:"timezone,omitempty"`
	Language          string   `json:"language,omitempty"`
	Country           string   `json:"country,omitempty"`
	Location          string   `json:"location,omitempty"`
	JobTitle          string   `json:"job_title,omitempty"`
	ImageURL          string   `json:"image_url,omitempty"`
	// Dates are kept as Dialpad sends them (date-time strings).
	DateAdded  string `json:"date_added,omitempty"`
	DateActive string `json:"date_active,omitempty"`
}

// UnmarshalJSON accepts ids as numbers or numeric strings.
func (u *User) UnmarshalJSON(b []byte) error {
	type plain User
	var w struct {
		plain
		ID             jsonx.Int64   `json:"id"`
		OfficeID       jsonx.Int64   `json:"office_id"`
		CompanyID      jsonx.Int64   `json:"company_id"`
		AdminOfficeIDs []jsonx.Int64 `json:"admin_office_ids"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = User(w.plain)
	u.ID, u.OfficeID, u.CompanyID = int64(w.ID), int64(w.OfficeID), int64(w.CompanyID)
	u.AdminOfficeIDs = nil
	for _, id := range w.AdminOfficeIDs {
		u.AdminOfficeIDs = append(u.AdminOfficeIDs, int64(id))
	}
	return nil
}

// PrimaryEmail returns the user's first email address, or "".
func (u *User) PrimaryEmail() string {
	if len(u.Emails) == 0 {
		return ""
	}
	return u.Emails[0]
}

// Name returns the display name, or the first and last names.
func (u *User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

var userStates = map[string]bool{"active": true, "all": true, "cancelled": true, "deleted": true, "pending": true, "suspended": true}

// ListUsersOptions filters Users.List. The zero value lists Dialpad's
// default set.
type ListUsersOptions struct {
	// State is active, all, cancelled, deleted, pending or suspended.
	State string
	// CompanyAdmin, when set, lists only (or no) company admins.
	CompanyAdmin *bool
	// Email lists the user with this email address.
	Email string
	// Number lists the user with this E.164 number.
	Number string
	// Limit is the page size, at most 100. Dialpad has soft-deprecated it
	// (over 100 gives 100 items and, 20% of the time, a 400); leave it zero.
	Limit int
}

func (o *ListUsersOptions) query(op string) (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if o.State != "" {
		if !userStates[o.State] {
			return nil, invalid(op, "state %q is not one of active, all, cancelled, deleted, pending, suspended", o.State)
		}
		q.Set("state", o.State)
	}
	if o.CompanyAdmin != nil {
		q.Set("company_admin", strconv.FormatBool(*o.CompanyAdmin))
	}
	if o.Email != "" {
		q.Set("email", o.Email)
	}
	if o.Number != "" {
		if err := telephony.ValidateE164(o.Number); err != nil {
			return nil, invalid(op, "number: %v", err)
		}
		q.Set("number", o.Number)
	}
	if o.Limit < 0 || o.Limit > 100 {
		return nil, invalid(op, "limit %d is outside 0..100 (Dialpad answers 400 to some requests over 100)", o.Limit)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q, nil
}

// UsersService lists users and finds them by email. Get it from
// Client.Users.
type UsersService struct {
	c *Client

	lookups singleflight.Group // concurrent lookups of one email share a request

	mu    sync.Mutex
	ttl   time.Duration
	cache map[string]emailEntry
}

// emailEntry is one finished lookup, served until it expires.
type emailEntry struct {
	user    *User
	err     error
	expires time.Time
}

func newUsersService(c *Client) *UsersService {
	return &UsersService{c: c, ttl: DefaultEmailCacheTTL, cache: map[string]emailEntry{}}
}

// List iterates over the company's users, following Dialpad's cursor.
// Breaking out of the loop stops fetching; an error is yielded once and ends
// the sequence.
func (s *UsersService) List(ctx context.Context, opts *ListUsersOptions) iter.Seq2[User, error] {
	q, err := opts.query("GET /api/v2/users")
	if err != nil {
		return func(yield func(User, error) bool) { yield(User{}, err) }
	}
	return listCursor[User](ctx, s.c, "/api/v2/users", q)
}

// SetEmailCacheTTL sets how long FindByEmail remembers a user (default
// DefaultEmailCacheTTL); zero or less turns the cache off, although
// concurrent lookups of one email still share a request.
func (s *UsersService) SetEmailCacheTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttl = d
	s.cache = map[string]emailEntry{}
}

// FindByEmail returns the user with this email address (case-insensitive),
// or an error matching telephony.ErrNotFound. It asks Dialpad with GET
// /api/v2/users?email=..., remembers the answer for the cache TTL (a "not
// found" for 30 seconds), and concurrent lookups of the same email share one
// request. Failed lookups are not remembered.
func (s *UsersService) FindByEmail(ctx context.Context, email string) (*User, error) {
	const op = "GET /api/v2/users"
	key := strings.ToLower(strings.TrimSpace(email))
	if key == "" || !strings.Contains(key, "@") || strings.ContainsAny(key, " \r\n") {
		return nil, invalid(op, "%q is not an email address", email)
	}
	for {
		s.mu.Lock()
		e, ok := s.cache[key]
		if ok && !time.Now().Before(e.expires) {
			delete(s.cache, key)
			ok = false
		}
		s.mu.Unlock()
		if ok {
			return copyUser(e.user), e.err
		}
		// The email is sent as the caller wrote it, in case Dialpad's
		// filter is case-sensitive; the cache key is lowercased.
		ch := s.lookups.DoChan(key, func() (any, error) {
			u, err := s.fetchByEmail(ctx, strings.TrimSpace(email))
			s.remember(key, u, err)
			return u, err
		})
		var res singleflight.Result
		select {
		case <-ctx.Done():
			return nil, &telephony.Error{Kind: telephony.ErrUnavailable, Provider: telephony.ProviderDialpad,
				Op: "FindByEmail", Message: "the context ended while waiting for the directory lookup", Err: ctx.Err()}
		case res = <-ch:
		}
		// The leader's own context ended: that says nothing about this
		// caller, who asks again (and probably leads this time).
		if res.Err != nil && isContextErr(res.Err) && ctx.Err() == nil {
			continue
		}
		u, _ := res.Val.(*User)
		return copyUser(u), res.Err
	}
}

// remember caches a finished lookup: a user for the TTL, "not found" for
// at most notFoundTTL, a failure not at all.
func (s *UsersService) remember(key string, u *User, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ttl := s.ttl
	if err != nil {
		if !errors.Is(err, telephony.ErrNotFound) {
			return
		}
		ttl = min(ttl, notFoundTTL)
	}
	if ttl <= 0 {
		return
	}
	if len(s.cache) >= maxEmailCache {
		s.prune()
	}
	s.cache[key] = emailEntry{user: u, err: err, expires: time.Now().Add(ttl)}
}

func (s *UsersService) fetchByEmail(ctx context.Context, email string) (*User, error) {
	q := url.Values{"email": {email}}
	// One page is enough: Dialpad's email filter returns the matching user.
	items, _, err := cursorPage[User](ctx, s.c, "/api/v2/users", q, "")
	if err != nil {
		return nil, err
	}
	for i := range items {
		for _, e := range items[i].Emails {
			if strings.EqualFold(strings.TrimSpace(e), email) {
				return &items[i], nil
			}
		}
	}
	return nil, &telephony.Error{Kind: telephony.ErrNotFound, Provider: telephony.ProviderDialpad, Op: "GET /api/v2/users",
		Message: fmt.Sprintf("no Dialpad user has the email %q", email)}
}

// prune keeps the cache bounded: expired entries go first, then any
// others. Called with s.mu held.
func (s *UsersService) prune() {
	now := time.Now()
	for k, e := range s.cache {
		if !now.Before(e.expires) {
			delete(s.cache, k)
		}
	}
	for k := range s.cache {
		if len(s.cache) < maxEmailCache {
			return
		}
		delete(s.cache, k)
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func copyUser(u *User) *User {
	if u == nil {
		return nil
	}
	cp := *u
	cp.Emails = append([]string(nil), u.Emails...)
	cp.PhoneNumbers = append([]string(nil), u.PhoneNumbers...)
	cp.AdminOfficeIDs = append([]int64(nil), u.AdminOfficeIDs...)
	cp.ForwardingNumbers = append([]string(nil), u.ForwardingNumbers...)
	return &cp
}
