package dialpadtest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// User is a Dialpad user as the simulator holds it.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Email        string
	PhoneNumbers []string
	OfficeID     int64
	// State is active (the default), cancelled, deleted, pending or
	// suspended.
	State       string
	IsAdmin     bool
	IsAvailable bool
	IsOnline    bool
}

// AddUser stores u and returns it with the defaults filled in: an id, state
// "active", OfficeID and a phone number.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == 0 {
		u.ID = s.newID()
	}
	if u.State == "" {
		u.State = "active"
	}
	if u.OfficeID == 0 {
		u.OfficeID = OfficeID
	}
	if len(u.PhoneNumbers) == 0 {
		u.PhoneNumbers = []string{fmt.Sprintf("+1628555%04d", u.ID%10000)}
	}
	u.PhoneNumbers = slices.Clone(u.PhoneNumbers)
	s.users = append(s.users, &u)
	slices.SortFunc(s.users, func(a, b *User) int { return compare(a.ID, b.ID) })
	return cloneUser(&u)
}

// SeedUsers adds n available, online users with distinct ids, emails
// "agent1@example.com" ... "agent<n>@example.com" and phone numbers, and
// returns them.
func (s *Server) SeedUsers(n int) []User {
	out := make([]User, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, s.AddUser(User{
			FirstName: "Agent", LastName: strconv.Itoa(i), Email: fmt.Sprintf("agent%d@example.com", i),
			IsAvailable: true, IsOnline: true,
		}))
	}
	return out
}

// Users returns the users, by id.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, cloneUser(u))
	}
	return out
}

func cloneUser(u *User) User {
	cp := *u
	cp.PhoneNumbers = slices.Clone(u.PhoneNumbers)
	return cp
}

// user returns the user with this id. Called with s.mu held.
func (s *Server) user(id int64) *User {
	for _, u := range s.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// userJSON renders UserProto. Called with s.mu held.
func (s *Server) userJSON(u *User) map[string]any {
	emails := []string{}
	if u.Email != "" {
		emails = append(emails, u.Email)
	}
	return map[string]any{
		"id": s.id(u.ID), "first_name": u.FirstName, "last_name": u.LastName,
		"display_name": strings.TrimSpace(u.FirstName + " " + u.LastName),
		"emails":       emails, "phone_numbers": slices.Clone(u.PhoneNumbers),
		"office_id": s.id(u.OfficeID), "company_id": s.id(CompanyID), "state": u.State,
		"is_admin": u.IsAdmin, "is_available": u.IsAvailable, "is_online": u.IsOnline,
		"date_added": "2024-01-02T03:04:05.000000",
	}
}

var listStates = map[string]bool{"active": true, "all": true, "cancelled": true, "deleted": true, "pending": true, "suspended": true}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state != "" && !listStates[state] {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid state %q", state))
		return
	}
	if state == "" {
		state = "active"
	}
	var admin *bool
	if v := q.Get("company_admin"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "company_admin must be a boolean")
			return
		}
		admin = &b
	}
	email, number := strings.ToLower(q.Get("email")), q.Get("number")
	off, ok := decodeCursor("users", q.Get("cursor"))
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid cursor")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	size := s.pageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive integer")
			return
		}
		if n > 100 {
			// Dialpad soft-deprecated large limits: 100 items, and a 400
			// one time in five (deterministically here).
			s.over100++
			if s.over100%5 == 0 {
				writeError(w, http.StatusBadRequest, "limit must be 100 or less")
				return
			}
			n = 100
		}
		size = n
	}
	var all []*User
	for _, u := range s.users {
		switch {
		case state != "all" && u.State != state,
			email != "" && strings.ToLower(u.Email) != email,
			number != "" && !slices.Contains(u.PhoneNumbers, number),
			admin != nil && u.IsAdmin != *admin:
			continue
		}
		all = append(all, u)
	}
	items := []any{}
	end := min(off+size, len(all))
	for i := min(off, len(all)); i < end; i++ {
		items = append(items, s.userJSON(all[i]))
	}
	out := map[string]any{"items": items}
	if end < len(all) {
		out["cursor"] = encodeCursor("users", end)
	}
	writeJSON(w, http.StatusOK, out)
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
