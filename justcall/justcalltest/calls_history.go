package justcalltest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// callEpoch is when calls placed through the API start, as their call
// object shows.
var callEpoch = time.Date(2024, 3, 21, 17, 8, 22, 0, time.UTC)

func callStart(c *Call) time.Time {
	if c.StartedAt.IsZero() {
		return callEpoch
	}
	return c.StartedAt
}

// AddCall stores a call in the account's history without any request or
// callback, and returns it with its id: an inbound call (a zero Direction)
// from the customer From to the JustCall number To, answered by AgentID
// when Status is "completed" (the default when AgentID is set) and missed
// otherwise. A zero StartedAt is now.
func (s *Server) AddCall(c Call) Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	if c.Status == "" {
		c.Status = "no-answer"
		if c.AgentID != 0 {
			c.Status = "completed"
		}
	}
	if c.StartedAt.IsZero() {
		c.StartedAt = time.Now()
	}
	c.StartedAt = c.StartedAt.UTC().Truncate(time.Second)
	c.ID = fmt.Sprintf("call_%08d", len(s.calls)+1)
	cp := c
	s.calls = append(s.calls, &cp)
	return c
}

// listCalls is GET /v2.1/calls: the filters contact_number (the digits
// with the country code, with or without '+'), agent_id, call_direction
// (Incoming or Outgoing), from_datetime and to_datetime ("yyyy-mm-dd
// hh:mm:ss" or "yyyy-mm-dd", the account's zone: UTC here), sort=datetime
// and order (desc by default), pages numbered from 0 with per_page 1 to
// 100 (default 20) and next_page_link null on the last page.
func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, perPage := 0, 20
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
	var from, to time.Time
	for _, p := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"from_datetime", &from, false}, {"to_datetime", &to, true}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateTime, v, time.UTC)
		if err != nil {
			t, err = time.ParseInLocation(time.DateOnly, v, time.UTC)
			if err == nil && p.end {
				t = t.Add(24*time.Hour - time.Second)
			}
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, p.name+" must be yyyy-mm-dd hh:mm:ss or yyyy-mm-dd")
			return
		}
		*p.dst = t
	}
	var agent int64
	if v := q.Get("agent_id"); v != "" {
		if agent, err = strconv.ParseInt(v, 10, 64); err != nil || agent <= 0 {
			writeError(w, http.StatusBadRequest, "agent_id must be a positive integer")
			return
		}
	}
	dir := ""
	switch v := q.Get("call_direction"); strings.ToLower(v) {
	case "":
	case "incoming":
		dir = "inbound"
	case "outgoing":
		dir = "outbound"
	default:
		writeError(w, http.StatusBadRequest, "call_direction must be Incoming or Outgoing")
		return
	}
	contact := strings.TrimPrefix(q.Get("contact_number"), "+")
	asc := q.Get("order") == "asc"

	s.mu.Lock()
	var match []*Call
	for _, c := range s.calls {
		d, customer := c.Direction, c.From
		if d != "inbound" {
			d, customer = "outbound", c.To
		}
		at := callStart(c)
		switch {
		case dir != "" && d != dir,
			agent != 0 && c.AgentID != agent,
			contact != "" && strings.TrimPrefix(customer, "+") != contact,
			!from.IsZero() && at.Before(from),
			!to.IsZero() && at.After(to):
			continue
		}
		match = append(match, c)
	}
	slices.SortStableFunc(match, func(a, b *Call) int {
		if !asc {
			a, b = b, a
		}
		return callStart(a).Compare(callStart(b))
	})
	start := min(page*perPage, len(match))
	end := min(start+perPage, len(match))
	data := make([]map[string]any, 0, end-start)
	for _, c := range match[start:end] {
		data = append(data, s.callObject(c))
	}
	s.mu.Unlock()
	var next any
	if end < len(match) {
		q.Set("page", strconv.Itoa(page+1))
		next = fmt.Sprintf("%s/v2.1/calls?%s", s.URL(), q.Encode())
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "success", "count": len(data), "page": page, "per_page": perPage,
		"next_page_link": next, "data": data,
	})
}
