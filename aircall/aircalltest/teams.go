package aircalltest

import (
	"net/http"
	"strconv"
	"time"
)

// Team is a simulated Aircall team: a transfer with team_id must name one
// (Aircall answers 404 otherwise).
type Team struct {
	ID        int64
	Name      string
	UserIDs   []int64
	CreatedAt time.Time
}

// AddTeam adds a team of the given users and returns it with its id, from
// the same sequence as users, numbers and calls. Ids of users not added
// (yet) are kept, and show in the team once such a user is added.
func (s *Server) AddTeam(name string, userIDs ...int64) Team {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &Team{ID: s.newIDLocked(), Name: name, UserIDs: append([]int64(nil), userIDs...),
		CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if s.teams == nil {
		s.teams = map[int64]*Team{}
	}
	s.teams[t.ID] = t
	s.teamOrder = append(s.teamOrder, t.ID)
	return cloneTeam(t)
}

// Teams returns the teams in creation (and id) order.
func (s *Server) Teams() []Team {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Team, 0, len(s.teamOrder))
	for _, id := range s.teamOrder {
		out = append(out, cloneTeam(s.teams[id]))
	}
	return out
}

func cloneTeam(t *Team) Team {
	c := *t
	c.UserIDs = append([]int64(nil), t.UserIDs...)
	return c
}

type wireTeam struct {
	ID         int64      `json:"id"`
	DirectLink string     `json:"direct_link"`
	Name       string     `json:"name"`
	CreatedAt  string     `json:"created_at"`
	Users      []wireUser `json:"users"`
}

// wireTeamLocked renders Aircall's team object; its users are the known
// members, in the order given.
func (s *Server) wireTeamLocked(t *Team) wireTeam {
	w := wireTeam{ID: t.ID, DirectLink: s.URL() + "/v1/teams/" + strconv.FormatInt(t.ID, 10), Name: t.Name,
		CreatedAt: t.CreatedAt.Format("2006-01-02T15:04:05.000Z"), Users: []wireUser{}}
	for _, id := range t.UserIDs {
		if u, ok := s.byID[id]; ok {
			w.Users = append(w.Users, s.wireUser(u, false))
		}
	}
	return w
}

// listTeams serves GET /v1/teams: {"teams": [...], "meta": {...}}, paged
// as GET /v1/users is.
func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) {
	page, per, ok := parsePage(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	total := len(s.teamOrder)
	lo, hi := pageBounds(page, per, total)
	items := make([]wireTeam, 0, hi-lo)
	for _, id := range s.teamOrder[lo:hi] {
		items = append(items, s.wireTeamLocked(s.teams[id]))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"teams": items, "meta": s.pageMeta(r, "/v1/teams", page, per, len(items), total)})
}

// getTeam serves GET /v1/teams/{id}: {"team": {...}}, or Aircall's 404.
func (s *Server) getTeam(w http.ResponseWriter, id int64) {
	s.mu.Lock()
	t, ok := s.teams[id]
	var out wireTeam
	if ok {
		out = s.wireTeamLocked(t)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "Team not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"team": out})
}
