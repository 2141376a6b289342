package justcall

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"

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
	base := url.Values{}
	base.Set("per_page", strconv.Itoa(o.PerPage))
	if o.Available != nil {
		base.Set("available", strconv.FormatBool(*o.Available))
	}
	if o.GroupID != 0 {
		base.Set("group_id", strconv.FormatInt(o.GroupID, 10))
	}
	if o.Role != "" {
		base.Set("role", o.Role)
	}
	if o.Order != "" {
		base.Set("order", o.Order)
	}
	return paginate.PageNumber(ctx, FirstPage+o.Page, func(ctx context.Context, page int) ([]User, bool, error) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(page))
		var out usersPage
		if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/v2.1/users", Query: q, Out: &out}); err != nil {
			return nil, false, err
		}
		users := make([]User, len(out.Data))
		for i, w := range out.Data {
			users[i] = w.user()
		}
		// The provider's next_page_link decides when it is sent: a link
		// means more (even after a short page), null or "" means the end.
		// Without the field, a full page means there may be more.
		more := len(out.Data) == o.PerPage
		if link := bytes.TrimSpace(out.NextPageLink); len(link) > 0 {
			var next string
			_ = json.Unmarshal(link, &next) // null or a non-string: no link
			more = next != "" && len(out.Data) > 0
		}
		return users, more, nil
	})
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
