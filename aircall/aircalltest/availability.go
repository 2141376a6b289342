package aircalltest

import (
	"fmt"
	"net/http"
)

// The availabilities GET /v1/users/availabilities and GET
// /v1/users/{id}/availability report: Aircall's own reading of whether a
// user can take a call now, finer than the availability_status the user
// chooses (available, custom, unavailable).
const (
	AvailabilityAvailable     = "available"
	AvailabilityInCall        = "in_call"
	AvailabilityAfterCallWork = "after_call_work"
	AvailabilityDoNotDisturb  = "do_not_disturb"
	AvailabilityOffline       = "offline"
	AvailabilityUnavailable   = "unavailable"
)

// SetAvailability pins the availability the simulator reports for a user
// ("" goes back to the computed one: in_call while the user is on an
// answered call, else the user's AvailabilityStatus).
func (s *Server) SetAvailability(userID int64, availability string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[userID]
	if !ok {
		return fmt.Errorf("aircalltest: no user %d", userID)
	}
	u.Availability = availability
	return nil
}

// availabilityLocked is what Aircall would report for u now.
func (s *Server) availabilityLocked(u *User) string {
	if u.Availability != "" {
		return u.Availability
	}
	for _, c := range s.calls {
		if c.UserID == u.ID && c.Status == "answered" {
			return AvailabilityInCall
		}
	}
	if u.AvailabilityStatus == "" || u.AvailabilityStatus == "available" {
		return AvailabilityAvailable
	}
	return AvailabilityUnavailable
}

type wireAvailability struct {
	ID           int64  `json:"id"`
	Availability string `json:"availability"`
}

// listAvailabilities serves GET /v1/users/availabilities: {"users": [{id,
// availability}], "meta": {...}}, paged as GET /v1/users is.
func (s *Server) listAvailabilities(w http.ResponseWriter, r *http.Request) {
	page, per, ok := parsePage(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	total := len(s.users)
	lo, hi := pageBounds(page, per, total)
	items := make([]wireAvailability, 0, hi-lo)
	for _, u := range s.users[lo:hi] {
		items = append(items, wireAvailability{ID: u.ID, Availability: s.availabilityLocked(u)})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"users": items,
		"meta": s.pageMeta(r, "/v1/users/availabilities", page, per, len(items), total)})
}

// getAvailability serves GET /v1/users/{id}/availability: {"availability":
// "..."}, or Aircall's 404.
func (s *Server) getAvailability(w http.ResponseWriter, id int64) {
	s.mu.Lock()
	u, ok := s.byID[id]
	var out string
	if ok {
		out = s.availabilityLocked(u)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "User not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"availability": out})
}
