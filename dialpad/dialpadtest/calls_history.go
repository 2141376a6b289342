package dialpadtest

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// AddEndedCall stores a concluded call in the company's history, as
// given and without any event, and returns it with its id: a zero
// Direction is "inbound", a zero State "hangup", a zero Started a minute
// ago, a zero Ended a minute after Started (or after Connected). A call
// with a user TargetID and no Connected time was missed unless State says
// otherwise. GET /api/v2/call lists it.
func (s *Server) AddEndedCall(c Call) Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Direction == "" {
		c.Direction = "inbound"
	}
	if c.State == "" {
		c.State = "hangup"
		if c.Connected.IsZero() && c.TargetType == "user" {
			c.Connected = c.Started
		}
	}
	if c.Started.IsZero() {
		c.Started = s.nowLocked().Add(-time.Minute)
		if c.State == "hangup" && c.TargetType == "user" {
			c.Connected = c.Started
		}
	}
	if c.Ended.IsZero() {
		c.Ended = c.Started.Add(time.Minute)
		if !c.Connected.IsZero() {
			c.Ended = c.Connected.Add(time.Minute)
		}
	}
	c.ID = s.newID()
	cp := c
	s.calls[c.ID] = &cp
	s.callOrder = append(s.callOrder, c.ID)
	return c
}

// restCall renders a call as the REST API answers it: the call event's
// fields, with ids and times written as REST answers write int64s (strings
// unless SetIDsAsNumbers). Called with s.mu held.
func (s *Server) restCall(c *Call) map[string]any {
	ev := s.callEvent(c)
	for _, k := range []string{"call_id", "master_call_id", "entry_point_call_id", "operator_call_id",
		"date_started", "date_connected", "date_ended", "event_timestamp"} {
		switch v := ev[k].(type) {
		case int64:
			ev[k] = s.id(v)
		case string:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				ev[k] = s.id(n)
			}
		}
	}
	return ev
}

// listCalls serves GET /api/v2/call: the calls that have ended, newest
// first, filtered by started_after and started_before (ms since the
// epoch, exclusive) and target_id with target_type, in pages of the page
// size with an opaque cursor.
func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after, before, target int64
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"started_after", &after}, {"started_before", &before}, {"target_id", &target}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, p.name+" must be a non-negative integer")
				return
			}
			*p.dst = n
		}
	}
	targetType := q.Get("target_type")
	if (target != 0) != (targetType != "") {
		writeError(w, http.StatusBadRequest, "target_id and target_type must be given together")
		return
	}
	off, ok := decodeCursor("calls", q.Get("cursor"))
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid cursor")
		return
	}
	s.mu.Lock()
	var match []*Call
	for _, id := range s.callOrder {
		c := s.calls[id]
		ms := c.Started.UnixMilli()
		switch {
		case c.Ended.IsZero(),
			after != 0 && ms <= after,
			before != 0 && ms >= before,
			target != 0 && (c.TargetID != target || c.TargetType != targetType):
			continue
		}
		match = append(match, c)
	}
	slices.SortStableFunc(match, func(a, b *Call) int { return b.Started.Compare(a.Started) })
	start := min(off, len(match))
	end := min(start+s.pageSize, len(match))
	items := make([]map[string]any, 0, end-start)
	for _, c := range match[start:end] {
		items = append(items, s.restCall(c))
	}
	out := map[string]any{"items": items}
	if end < len(match) {
		out["cursor"] = encodeCursor("calls", end)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// getCall serves GET /api/v2/call/{id}: any call the simulator knows, live
// or ended.
func (s *Server) getCall(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid call id")
		return
	}
	s.mu.Lock()
	var out map[string]any
	if c, ok := s.calls[id]; ok {
		out = s.restCall(c)
	}
	s.mu.Unlock()
	if out == nil {
		writeError(w, http.StatusNotFound, "Call not found")
		return
	}
	writeJSON(w, http.StatusOK, out)
}
