package aircalltest

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxRecords is Aircall's cap on a listing: no next page is offered past
// 10,000 records, and a page beyond them is empty, whatever the total.
const MaxRecords = 10_000

// createdEpoch is the creation time of the first user added without one;
// each later one is created a second after the previous.
var createdEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// User is a simulated Aircall user.
type User struct {
	ID                 int64 // assigned by AddUser when zero
	Name               string
	Email              string
	Available          bool
	AvailabilityStatus string // "available" when empty: the status the user chose
	// Availability, when set, is what the availability endpoints report
	// (see SetAvailability); empty computes it.
	Availability string
	Numbers      []Number
	// CreatedAt is when the user was created (whole seconds); when zero,
	// AddUser sets it one second after the last user's. Listings filter
	// on it (from, to) and sort by it (order).
	CreatedAt time.Time
}

// Number is a simulated Aircall number.
type Number struct {
	ID     int64 // assigned by AddUser when zero
	Name   string
	Digits string // Aircall's display form, e.g. "+1 415 555 0001"
}

// AddUser stores u, assigning ids to it and its numbers when zero, and
// returns what was stored.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addUserLocked(u)
}

func (s *Server) addUserLocked(u User) User {
	if u.ID == 0 {
		u.ID = s.newIDLocked()
	}
	s.nextID = max(s.nextID, u.ID)
	if u.AvailabilityStatus == "" {
		u.AvailabilityStatus = "available"
	}
	if u.CreatedAt.IsZero() {
		if s.lastCreated.IsZero() {
			s.lastCreated = createdEpoch.Add(-time.Second)
		}
		u.CreatedAt = s.lastCreated.Add(time.Second)
	}
	u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Second)
	s.lastCreated = maxTime(s.lastCreated, u.CreatedAt)
	u.Numbers = append([]Number(nil), u.Numbers...)
	for i := range u.Numbers {
		if u.Numbers[i].ID == 0 {
			u.Numbers[i].ID = s.newIDLocked()
		}
		n := u.Numbers[i]
		s.numbers[n.ID] = &n
	}
	if old, ok := s.byID[u.ID]; ok {
		*old = u
		s.sortCreatedLocked()
		return u
	}
	p := &u
	s.byID[u.ID] = p
	s.users = append(s.users, p)
	if n := len(s.users); n > 1 && s.users[n-2].ID > u.ID {
		sort.Slice(s.users, func(i, j int) bool { return s.users[i].ID < s.users[j].ID })
	}
	s.byCreated = append(s.byCreated, p)
	if n := len(s.byCreated); n > 1 && createdLess(s.byCreated[n-1], s.byCreated[n-2]) {
		s.sortCreatedLocked()
	}
	return u
}

func createdLess(a, b *User) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.Before(b.CreatedAt)
	}
	return a.ID < b.ID
}

func (s *Server) sortCreatedLocked() {
	sort.SliceStable(s.byCreated, func(i, j int) bool { return createdLess(s.byCreated[i], s.byCreated[j]) })
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// SeedUsers adds n available users named "Agent i" with emails
// "agent%d@example.com" (i from 1) and one number each, "+1 415 5xx xxxx",
// and returns them.
func (s *Server) SeedUsers(n int) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, s.addUserLocked(User{
			Name: fmt.Sprintf("Agent %d", i), Email: fmt.Sprintf("agent%d@example.com", i), Available: true,
			Numbers: []Number{{Name: fmt.Sprintf("Line %d", i), Digits: fmt.Sprintf("+1 415 %03d %04d", 500+i/10000, i%10000)}},
		}))
	}
	return out
}

// Users returns the stored users in id order.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, len(s.users))
	for i, u := range s.users {
		out[i] = *u
		out[i].Numbers = append([]Number(nil), u.Numbers...)
	}
	return out
}

type wireNumber struct {
	ID         int64  `json:"id"`
	DirectLink string `json:"direct_link"`
	Name       string `json:"name"`
	Digits     string `json:"digits"`
}

type wireUser struct {
	ID                 int64        `json:"id"`
	DirectLink         string       `json:"direct_link"`
	Name               string       `json:"name"`
	Email              string       `json:"email"`
	Available          bool         `json:"available"`
	AvailabilityStatus string       `json:"availability_status"`
	CreatedAt          string       `json:"created_at"`
	Numbers            []wireNumber `json:"numbers,omitempty"`
}

func (s *Server) wireUser(u *User, withNumbers bool) wireUser {
	w := wireUser{ID: u.ID, DirectLink: s.URL() + "/v1/users/" + strconv.FormatInt(u.ID, 10),
		Name: u.Name, Email: u.Email, Available: u.Available, AvailabilityStatus: u.AvailabilityStatus,
		CreatedAt: u.CreatedAt.Format("2006-01-02T15:04:05.000Z")}
	if withNumbers {
		w.Numbers = []wireNumber{}
		for _, n := range u.Numbers {
			w.Numbers = append(w.Numbers, s.wireNumber(&n))
		}
	}
	return w
}

func (s *Server) wireNumber(n *Number) wireNumber {
	return wireNumber{ID: n.ID, DirectLink: s.URL() + "/v1/numbers/" + strconv.FormatInt(n.ID, 10), Name: n.Name, Digits: n.Digits}
}

// listUsers serves GET /v1/users: page (default 1) and per_page (default
// 20, at most 50); from and to (Unix seconds, inclusive) keep the users
// created in that range; order (asc, the default, or desc) sorts by
// creation. The answer is the users envelope and meta with absolute links
// on the simulator's own host; like Aircall, no listing goes past
// MaxRecords records (meta.total still counts every match).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	page, per, ok := parsePage(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, "Invalid "+p.name, p.name+" must be a UNIX timestamp.")
				return
			}
			*p.dst = n
		}
	}
	order := q.Get("order")
	if order != "" && order != "asc" && order != "desc" {
		writeError(w, http.StatusBadRequest, "Invalid order", "order must be asc or desc.")
		return
	}
	s.mu.Lock()
	lo := sort.Search(len(s.byCreated), func(i int) bool { return s.byCreated[i].CreatedAt.Unix() >= from })
	hi := sort.Search(len(s.byCreated), func(i int) bool { return s.byCreated[i].CreatedAt.Unix() > to })
	match := s.byCreated[lo:max(lo, hi)]
	total := len(match)
	plo, phi := pageBounds(page, per, total)
	items := make([]wireUser, 0, phi-plo)
	for i := plo; i < phi; i++ {
		u := match[i]
		if order == "desc" {
			u = match[total-1-i]
		}
		items = append(items, s.wireUser(u, false))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"users": items, "meta": s.pageMeta(r, "/v1/users", page, per, len(items), total)})
}

// parsePage reads Aircall's page (default 1) and per_page (default 20, at
// most 50), answering 400 when they are not positive integers.
func parsePage(w http.ResponseWriter, r *http.Request) (page, per int, ok bool) {
	q := r.URL.Query()
	page, per = 1, 20
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "Invalid page", "page must be a positive integer.")
			return 0, 0, false
		}
		page = n
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "Invalid per_page", "per_page must be a positive integer.")
			return 0, 0, false
		}
		per = min(n, 50)
	}
	return page, per, true
}

// pageBounds is the slice of total records a page holds, within MaxRecords.
func pageBounds(page, per, total int) (lo, hi int) {
	return min((page-1)*per, total, MaxRecords), min(page*per, total, MaxRecords)
}

// pageMeta is Aircall's meta object, with absolute links to path on the
// simulator's own host, keeping the request's other query parameters.
func (s *Server) pageMeta(r *http.Request, path string, page, per, count, total int) map[string]any {
	q := r.URL.Query()
	link := func(p int) *string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(per))
		l := s.URL() + path + "?" + v.Encode()
		return &l
	}
	var next, prev *string
	if page*per < min(total, MaxRecords) {
		next = link(page + 1)
	}
	if page > 1 {
		prev = link(page - 1)
	}
	return map[string]any{"count": count, "total": total, "current_page": page, "per_page": per,
		"next_page_link": next, "previous_page_link": prev}
}

func (s *Server) getUser(w http.ResponseWriter, id int64) {
	s.mu.Lock()
	u, ok := s.byID[id]
	var out wireUser
	if ok {
		out = s.wireUser(u, true)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "User not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": out})
}

// compact strips Aircall's display punctuation from a number.
func compact(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "(", "", ")", "", ".", "").Replace(strings.TrimSpace(s))
}
