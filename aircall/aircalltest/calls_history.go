package aircalltest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// AddCall stores a call as it would be in the company's history, without
// posting any webhook, and returns it with its id. A zero Direction is
// "inbound", a zero Status "done", a zero StartedAt now; a done call with
// a UserID and no AnsweredAt is given AnsweredAt = StartedAt, and one
// without EndedAt is given EndedAt = StartedAt+60 (or AnsweredAt+60). The
// company number NumberID is left as given (0: none).
func (s *Server) AddCall(c Call) Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	if c.Status == "" {
		c.Status = "done"
	}
	if c.StartedAt == 0 {
		c.StartedAt = time.Now().Unix()
	}
	if c.Status == "done" {
		if c.UserID != 0 && c.AnsweredAt == 0 {
			c.AnsweredAt = c.StartedAt
		}
		if c.EndedAt == 0 {
			c.EndedAt = max(c.StartedAt, c.AnsweredAt) + 60
		}
		if c.UserID == 0 && c.Direction == "inbound" && c.MissedCallReason == "" {
			c.MissedCallReason = "agents_did_not_answer"
		}
	}
	c.ID = s.newIDLocked()
	cp := c
	s.calls[c.ID] = &cp
	s.callOrder = append(s.callOrder, c.ID)
	return c
}

// callFilter is what GET /v1/calls and /v1/calls/search filter on.
type callFilter struct {
	from, to  int64 // Unix seconds, inclusive; 0 is open
	desc      bool
	phone     string // compacted
	direction string
	userID    int64
}

// parseCallFilter reads from, to and order (both endpoints) and, for the
// search, phone_number, direction and user_id, answering 400 as Aircall
// does when one is malformed.
func parseCallFilter(w http.ResponseWriter, r *http.Request, search bool) (callFilter, bool) {
	q := r.URL.Query()
	var f callFilter
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"from", &f.from}, {"to", &f.to}, {"user_id", &f.userID}} {
		v := q.Get(p.name)
		if v == "" || (p.name == "user_id" && !search) {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Invalid "+p.name, p.name+" must be a positive integer (Unix seconds for from and to).")
			return f, false
		}
		*p.dst = n
	}
	switch o := q.Get("order"); o {
	case "", "asc":
	case "desc":
		f.desc = true
	default:
		writeError(w, http.StatusBadRequest, "Invalid order", "order must be asc or desc.")
		return f, false
	}
	if search {
		f.phone = compact(q.Get("phone_number"))
		switch d := q.Get("direction"); d {
		case "", "inbound", "outbound":
			f.direction = d
		default:
			writeError(w, http.StatusBadRequest, "Invalid direction", "direction must be inbound or outbound.")
			return f, false
		}
	}
	return f, true
}

func (f callFilter) keep(c *Call) bool {
	switch {
	case f.from > 0 && c.StartedAt < f.from, f.to > 0 && c.StartedAt > f.to:
		return false
	case f.phone != "" && compact(c.RawDigits) != f.phone:
		return false
	case f.direction != "" && c.Direction != f.direction:
		return false
	case f.userID != 0 && c.UserID != f.userID:
		return false
	}
	return true
}

// listCalls serves GET /v1/calls (search false) and GET /v1/calls/search
// (search true): the calls envelope with Aircall's meta, filtered and
// ordered by start time (ascending unless order=desc), capped at
// MaxRecords.
func (s *Server) listCalls(w http.ResponseWriter, r *http.Request, search bool) {
	page, per, ok := parsePage(w, r)
	if !ok {
		return
	}
	f, ok := parseCallFilter(w, r, search)
	if !ok {
		return
	}
	s.mu.Lock()
	var match []*Call
	for _, id := range s.callOrder {
		if c := s.calls[id]; f.keep(c) {
			match = append(match, c)
		}
	}
	slices.SortStableFunc(match, func(a, b *Call) int {
		if f.desc {
			a, b = b, a
		}
		switch {
		case a.StartedAt != b.StartedAt:
			return cmp.Compare(a.StartedAt, b.StartedAt)
		default:
			return cmp.Compare(a.ID, b.ID)
		}
	})
	lo, hi := pageBounds(page, per, len(match))
	items := make([]wireCall, 0, hi-lo)
	for _, c := range match[lo:hi] {
		items = append(items, s.wireCallLocked(c))
	}
	s.mu.Unlock()
	path := "/v1/calls"
	if search {
		path += "/search"
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": items, "meta": s.pageMeta(r, path, page, per, len(items), len(match))})
}
