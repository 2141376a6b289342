package aircall

import (
	"context"
	"iter"
	"net/http"
	"strconv"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// The values of Availability.Availability that Aircall's developer guides
// name. Unlike the availability_status a user chooses (available, custom,
// unavailable), Aircall sets these itself as the user logs in, takes calls
// and wraps up.
const (
	AvailabilityAvailable     = "available"
	AvailabilityInCall        = "in_call"
	AvailabilityAfterCallWork = "after_call_work"
	AvailabilityDoNotDisturb  = "do_not_disturb"
	AvailabilityOffline       = "offline"
	AvailabilityUnavailable   = "unavailable"
)

// Availability is whether a user can take a call now, as Aircall's
// availability endpoints report it.
type Availability struct {
	// UserID is the user's id.
	UserID int64 `json:"id"`
	// Availability is one of the Availability* values (or another Aircall
	// adds later).
	Availability string `json:"availability"`
}

// Free reports that the user can take a call now: Aircall reports them
// available (not on a call, wrapping up, in do-not-disturb or offline).
func (a Availability) Free() bool { return a.Availability == AvailabilityAvailable }

// Availabilities iterates over every user's availability, following
// meta.next_page_link as the loop advances, as List does.
//
// API: GET /v1/users/availabilities
func (s *UsersService) Availabilities(ctx context.Context, opts *ListOptions) iter.Seq2[Availability, error] {
	return list[Availability, availabilitiesPage](ctx, s.c, "/v1/users/availabilities", opts)
}

// GetAvailability returns one user's availability.
//
// API: GET /v1/users/{id}/availability
func (s *UsersService) GetAvailability(ctx context.Context, userID int64) (*Availability, error) {
	const route = "/v1/users/{id}/availability"
	if userID <= 0 {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op(http.MethodGet, route), "user id %d must be positive", userID)
	}
	var out Availability
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet,
		Path: "/v1/users/" + strconv.FormatInt(userID, 10) + "/availability", Route: route, Out: &out}); err != nil {
		return nil, err
	}
	out.UserID = userID
	return &out, nil
}
