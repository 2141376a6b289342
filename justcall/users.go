package justcall

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/paginate"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// UsersService lists the account's agents.
type UsersService struct{ c *Client }

// Page sizes of GET /v2.1/users, as JustCall documents them.
const (
	DefaultUsersPerPage = 50
	MaxUsersPerPage     = 100
)

// FirstPage is the number of the first page. JustCall does not document
// whether users pages start at 0 or 1; its voice-agent listing says "Page 0
// = first page", so this package starts at 0 (and justcalltest agrees).
// Set ListUsersOptions.Page to start elsewhere.
const FirstPage = 0

// ListUsersOptions filters and pages GET /v2.1/users. A nil
// *ListUsersOptions lists every user.
type ListUsersOptions struct {
	// PerPage is the page size, 1 to 100; zero means 50.
	PerPage int
	// Page is the first page to fetch; zero is FirstPage.
	Page int
	// Available, when non-nil, keeps only agents that are (or are not)
	// available according to their working hours.
	Available *bool
	// GroupID keeps members of one group; Role keeps one role.
	GroupID int64
	Role    string
	// Order sorts by agent id: "asc" or "desc".
	Order string
}

// User is a JustCall agent (JustCall's v2.1 user object).
type User struct {
	ID    int64
	Name  string
	Email string
	Role  string
	// Extension is the agent's extension, as JustCall writes it.
	Extension string
	// Available is JustCall's "available" ("Yes"/"No"): available as per
	// the agent's working hours. OnCall is "on_call".
	Available            bool
	OnCall               bool
	UnavailabilityReason string
	Timezone             string
	WorkingHoursType     string
	CreatedAt            string // yyyy-mm-dd, UTC
	LastLoginTimestamp   string // yyyy-mm-dd hh:mm:ss
	// Groups, OwnedNumbers and SharedNumbers are kept as JustCall sent
	// them: their element shape is not documented in the sources we have.
	Groups        json.RawMessage
	OwnedNumbers  json.RawMessage
	SharedNumbers json.RawMessage
}

type wireUser struct {
	ID                   jsonx.Int64     `json:"id"`
	Name                 string          `json:"name"`
	Email                string          `json:"email"`
	Role                 string          `json:"role"`
	Extension            jsonx.String    `json:"extension"`
	Available            jsonx.Bool      `json:"available"`
	OnCall               jsonx.Bool      `json:"on_call"`
	UnavailabilityReason jsonx.String    `json:"unavailability_reason"`
	Timezone             string          `json:"timezone"`
	WorkingHoursType     string          `json:"working_hours_type"`
	CreatedAt            string          `json:"created_at"`
	LastLoginTimestamp   string          `json:"last_login_timestamp"`
	Groups               json.RawMessage `json:"groups"`
	OwnedNumbers         json.RawMessage `json:"owned_numbers"`
	SharedNumbers        json.RawMessage `json:"shared_numbers"`
}

type usersPage struct {
	Data []wireUser `json:"data"`
	// NextPageLink is kept raw to tell "absent" (decide by page size) from
	// null or "" (no next page).
	NextPageLink json.RawMessage `json:"next_page_link"`
}

// List iterates over the account's users with GET /v2.1/users, fetching
// pages as the loop advances. The walk stops at a short page, or when
// JustCall's answer carries an empty next_page_link. An error is yielded
// once and ends the sequence; invalid options yield an error matching
// telephony.ErrInvalidRequest before anything is sent.
func (s *UsersService) List(ctx context.Context, opts *ListUsersOptions) iter.Seq2[User, error] {
	var o ListUsersOptions
	if opts != nil {
		o = *opts // never mutate the caller's options
	}
	if o.PerPage == 0 {
		o.PerPage = DefaultUsersPerPage
	}
	if o.PerPage < 1 || o.PerPage > MaxUsersPerPage || o.Page < 0 {
		return func(yield func(User, error) bool) {
			yield(User{}, telephony.InvalidArgument(telephony.ProviderJustCall, "Users.List",
				"PerPage must be 1 to %d and Page non-negative (got %d, %d)", MaxUsersPerPage, o.PerPage, o.Page))
		}
	}
	perPage := strconv.Itoa(o.PerPage)
	return paginate.PageNumber(ctx, FirstPage+o.Page, func(ctx context.Context, page int) ([]User, bool, error) {
		// A fresh query per page: the transport encodes it at once.
		q := url.Values{"per_page": {perPage}, "page": {strconv.Itoa(page)}}
		if o.Available != nil {
			q.Set("available", strconv.FormatBool(*o.Available))
		}
		if o.GroupID != 0 {
			q.Set("group_id", strconv.FormatInt(o.GroupID, 10))
		}
		if o.Role != "" {
			q.Set("role", o.Role)
		}
		if o.Order != "" {
			q.Set("order", o.Order)
		}
		var users []User
		var link json.RawMessage
		decode := func(body []byte) error {
			// The usual form first, with plain types; the lenient wire
			// types (ids as strings, availability as booleans...) only
			// when it does not fit.
			var plain plainUsersPage
			if json.Unmarshal(body, &plain) == nil {
				users = make([]User, len(plain.Data))
				ok := true
				for i := range plain.Data {
					if users[i], ok = plain.Data[i].user(); !ok {
						break
					}
				}
				if ok {
					link = plain.NextPageLink
					return nil
				}
			}
			var out usersPage
			if err := json.Unmarshal(body, &out); err != nil {
				return err
			}
			users = make([]User, len(out.Data))
			for i, w := range out.Data {
				users[i] = w.user()
			}
			link = out.NextPageLink
			return nil
		}
		if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/v2.1/users", Query: q, Decode: decode}); err != nil {
			return nil, false, err
		}
		// The provider's next_page_link decides when it is sent: a link
		// means more (even after a short page), null or "" means the end.
		// Without the field, a full page means there may be more.
		more := len(users) == o.PerPage
		if link := bytes.TrimSpace(link); len(link) > 0 {
			var next string
			if string(link) != "null" {
				_ = json.Unmarshal(link, &next) // a non-string: no link
			}
			more = next != "" && len(users) > 0
		}
		return users, more, nil
	})
}

// plainUsersPage is the users page in the form JustCall documents it (ids
// as numbers, availability as "Yes"/"No"), decoded with plain Go types; a
// page that does not fit it is decoded as a usersPage.
type plainUsersPage struct {
	Data         []plainUser     `json:"data"`
	NextPageLink json.RawMessage `json:"next_page_link"`
}

type plainUser struct {
	ID                   int64           `json:"id"`
	Name                 string          `json:"name"`
	Email                string          `json:"email"`
	Role                 string          `json:"role"`
	Extension            string          `json:"extension"`
	Available            string          `json:"available"`
	OnCall               string          `json:"on_call"`
	UnavailabilityReason string          `json:"unavailability_reason"`
	Timezone             string          `json:"timezone"`
	WorkingHoursType     string          `json:"working_hours_type"`
	CreatedAt            string          `json:"created_at"`
	LastLoginTimestamp   string          `json:"last_login_timestamp"`
	Groups               json.RawMessage `json:"groups"`
	OwnedNumbers         json.RawMessage `json:"owned_numbers"`
	SharedNumbers        json.RawMessage `json:"shared_numbers"`
}

// user converts p; ok is false when its availability is not a word
// jsonx.Bool reads (the lenient decode then decides).
func (p *plainUser) user() (User, bool) {
	available, ok1 := yesNo(p.Available)
	onCall, ok2 := yesNo(p.OnCall)
	return User{
		ID: p.ID, Name: p.Name, Email: p.Email, Role: p.Role,
		Extension: p.Extension, Available: available, OnCall: onCall,
		UnavailabilityReason: p.UnavailabilityReason, Timezone: p.Timezone,
		WorkingHoursType: p.WorkingHoursType, CreatedAt: p.CreatedAt,
		LastLoginTimestamp: p.LastLoginTimestamp, Groups: p.Groups,
		OwnedNumbers: p.OwnedNumbers, SharedNumbers: p.SharedNumbers,
	}, ok1 && ok2
}

// yesNo reads a string availability as jsonx.Bool does, without
// allocating.
func yesNo(s string) (value, ok bool) {
	for _, w := range [...]string{"true", "yes", "1", "y", "on"} {
		if strings.EqualFold(s, w) {
			return true, true
		}
	}
	for _, w := range [...]string{"false", "no", "0", "n", "off", "", "null"} {
		if strings.EqualFold(s, w) {
			return false, true
		}
	}
	return false, false
}

func (w wireUser) user() User {
	return User{
		ID: int64(w.ID), Name: w.Name, Email: w.Email, Role: w.Role,
		Extension: string(w.Extension), Available: bool(w.Available), OnCall: bool(w.OnCall),
		UnavailabilityReason: string(w.UnavailabilityReason), Timezone: w.Timezone,
		WorkingHoursType: w.WorkingHoursType, CreatedAt: w.CreatedAt,
		LastLoginTimestamp: w.LastLoginTimestamp, Groups: w.Groups,
		OwnedNumbers: w.OwnedNumbers, SharedNumbers: w.SharedNumbers,
	}
}
