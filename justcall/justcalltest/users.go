package justcalltest

import (
	"fmt"
	"net/http"
	"strconv"
)

// listUsers is GET /v2.1/users: pages numbered from 0, per_page 1 to 100
// (default 50), next_page_link null on the last page.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, perPage := 0, 50
	var err error
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 0 {
			writeError(w, http.StatusBadRequest, "page must be a non-negative integer")
			return
		}
	}
	if v := q.Get("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > 100 {
			writeError(w, http.StatusBadRequest, "per_page must be between 1 and 100")
			return
		}
	}
	s.mu.Lock()
	var users []User
	for _, u := range s.users {
		if v := q.Get("available"); v != "" && strconv.FormatBool(u.Available) != v {
			continue
		}
		users = append(users, u)
	}
	s.mu.Unlock()
	start := min(page*perPage, len(users))
	end := min(start+perPage, len(users))
	data := make([]map[string]any, 0, end-start)
	for _, u := range users[start:end] {
		data = append(data, userJSON(u))
	}
	var next any
	if end < len(users) {
		q.Set("page", strconv.Itoa(page+1))
		next = fmt.Sprintf("%s/v2.1/users?%s", s.URL(), q.Encode())
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "success", "count": len(data), "page": page, "per_page": perPage,
		"next_page_link": next, "data": data,
	})
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// userJSON is JustCall's v2.1 user object.
func userJSON(u User) map[string]any {
	numbers := u.Numbers
	if numbers == nil {
		numbers = []string{}
	}
	return map[string]any{
		"id": u.ID, "name": u.Name, "email": u.Email, "role": u.Role,
		"extension": strconv.FormatInt(100+u.ID%1000, 10), "groups": []any{},
		"owned_numbers": numbers, "shared_numbers": []string{},
		"created_at": "2024-01-15", "last_login_timestamp": "2024-03-21 17:08:22",
		"timezone": "UTC", "working_hours_type": "Always Open",
		"available": yesNo(u.Available), "unavailability_reason": "", "on_call": "No",
	}
}
