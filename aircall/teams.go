package aircall

import (
	"context"
	"iter"
	"net/http"
	"strconv"

	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// Team is an Aircall team: a group of users a call can be transferred to
// (TransferRequest.TeamID, telephony.TargetTeam).
type Team struct {
	ID         int64  `json:"id"`
	DirectLink string `json:"direct_link,omitempty"`
	Name       string `json:"name"`
	CreatedAt  string `json:"created_at,omitempty"` // ISO 8601, as Aircall sends it
	// Users are the team's members, without their numbers.
	Users []User `json:"users"`
}

// TeamsService is the /v1/teams resource. Get it from Client.Teams.
type TeamsService struct{ c *Client }

// List iterates over the company's teams, following meta.next_page_link as
// the loop advances; breaking out stops fetching. An error is yielded once
// and ends the sequence.
//
// API: GET /v1/teams
func (s *TeamsService) List(ctx context.Context, opts *ListOptions) iter.Seq2[Team, error] {
	return list[Team, teamsPage](ctx, s.c, "/v1/teams", opts)
}

// Get returns one team with its members, or an error matching
// telephony.ErrNotFound.
//
// API: GET /v1/teams/{id}
func (s *TeamsService) Get(ctx context.Context, id int64) (*Team, error) {
	const route = "/v1/teams/{id}"
	if id <= 0 {
		return nil, telephony.InvalidArgument(telephony.ProviderAircall, op(http.MethodGet, route), "team id %d must be positive", id)
	}
	var out struct {
		Team Team `json:"team"`
	}
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: "/v1/teams/" + strconv.FormatInt(id, 10), Route: route, Out: &out}); err != nil {
		return nil, err
	}
	return &out.Team, nil
}
