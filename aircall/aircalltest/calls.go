package aircalltest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Call is a simulated Aircall call.
type Call struct {
	ID               int64
	Direction        string // "inbound" or "outbound"
	Status           string // "initial", "answered" or "done"
	RawDigits        string // the other party
	NumberID         int64  // the company number
	UserID           int64  // the agent on the call, 0 while nobody is
	MissedCallReason string
	StartedAt        int64 // Unix seconds
	AnsweredAt       int64
	EndedAt          int64
	TransferredTo    int64 // the user the call was last transferred to
	TransferredAt    int64
}

// Transfer is one accepted POST /v1/calls/{id}/transfers.
type Transfer struct {
	CallID              int64
	UserID              int64
	TeamID              int64
	Number              string
	DispatchingStrategy string
}

// StartedCall is one accepted POST /v1/users/{id}/calls.
type StartedCall struct {
	UserID   int64
	NumberID int64
	To       string
	CallID   int64 // the outbound call it created
}

// Calls returns the calls in creation order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.callOrder))
	for _, id := range s.callOrder {
		out = append(out, *s.calls[id])
	}
	return out
}

// Call returns one call.
func (s *Server) Call(id int64) (Call, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[id]
	if !ok {
		return Call{}, false
	}
	return *c, true
}

// Transfers returns the transfers carried out, in order.
func (s *Server) Transfers() []Transfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Transfer(nil), s.transfers...)
}

// StartedCalls returns the outbound calls started through the API, in order.
func (s *Server) StartedCalls() []StartedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]StartedCall(nil), s.started...)
}

// CreateInboundCall records a new inbound call from from to the company
// number to (matched ignoring spaces; an unknown number is added to the
// company) without posting any webhook, and returns its id.
func (s *Server) CreateInboundCall(from, to string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var num *Number
	for _, n := range s.numbers {
		if compact(n.Digits) == compact(to) {
			num = n
			break
		}
	}
	if num == nil {
		num = &Number{ID: s.newIDLocked(), Name: "Company line", Digits: to}
		s.numbers[num.ID] = num
	}
	c := &Call{ID: s.newIDLocked(), Direction: "inbound", Status: "initial", RawDigits: from, NumberID: num.ID, StartedAt: time.Now().Unix()}
	s.calls[c.ID] = c
	s.callOrder = append(s.callOrder, c.ID)
	return c.ID
}

type wireCall struct {
	ID               int64       `json:"id"`
	DirectLink       string      `json:"direct_link"`
	Direction        string      `json:"direction"`
	Status           string      `json:"status"`
	MissedCallReason *string     `json:"missed_call_reason"`
	StartedAt        int64       `json:"started_at"`
	AnsweredAt       *int64      `json:"answered_at"`
	EndedAt          *int64      `json:"ended_at"`
	Duration         int64       `json:"duration"`
	RawDigits        string      `json:"raw_digits"`
	User             *wireUser   `json:"user"`
	Number           *wireNumber `json:"number"`
	TransferredTo    *wireUser   `json:"transferred_to"`
	Archived         bool        `json:"archived"`
}

func (s *Server) wireCallLocked(c *Call) wireCall {
	w := wireCall{ID: c.ID, DirectLink: s.URL() + "/v1/calls/" + strconv.FormatInt(c.ID, 10),
		Direction: c.Direction, Status: c.Status, StartedAt: c.StartedAt, RawDigits: c.RawDigits}
	if c.MissedCallReason != "" {
		w.MissedCallReason = &c.MissedCallReason
	}
	if c.AnsweredAt != 0 {
		w.AnsweredAt = &c.AnsweredAt
	}
	if c.EndedAt != 0 {
		w.EndedAt = &c.EndedAt
		w.Duration = c.EndedAt - c.StartedAt
	}
	if u, ok := s.byID[c.UserID]; ok {
		wu := s.wireUser(u, false)
		w.User = &wu
	}
	if u, ok := s.byID[c.TransferredTo]; ok {
		wu := s.wireUser(u, false)
		w.TransferredTo = &wu
	}
	if n, ok := s.numbers[c.NumberID]; ok {
		wn := s.wireNumber(n)
		w.Number = &wn
	}
	return w
}

func (s *Server) getCall(w http.ResponseWriter, id int64) {
	s.mu.Lock()
	c, ok := s.calls[id]
	var out wireCall
	if ok {
		out = s.wireCallLocked(c)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "Call not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"call": out})
}

// startCall serves POST /v1/users/{id}/calls: the user's app dials To from
// one of the user's numbers. Aircall answers 204 with no body.
func (s *Server) startCall(w http.ResponseWriter, r *http.Request, userID int64) {
	var body struct {
		NumberID int64  `json:"number_id"`
		To       string `json:"to"`
	}
	if !decodeBody(w, r, &body, "Send JSON {number_id, to}.") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[userID]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "User not found.")
		return
	}
	owned := false
	for _, n := range u.Numbers {
		owned = owned || n.ID == body.NumberID
	}
	switch {
	case !owned:
		writeError(w, http.StatusBadRequest, "Invalid number_id", "number_id must be a number assigned to the user.")
		return
	case !validE164(body.To):
		writeError(w, http.StatusBadRequest, "Invalid to", "to must be an E.164 number.")
		return
	}
	c := &Call{ID: s.newIDLocked(), Direction: "outbound", Status: "initial", RawDigits: body.To,
		NumberID: body.NumberID, UserID: userID, StartedAt: time.Now().Unix()}
	s.calls[c.ID] = c
	s.callOrder = append(s.callOrder, c.ID)
	s.started = append(s.started, StartedCall{UserID: userID, NumberID: body.NumberID, To: body.To, CallID: c.ID})
	w.WriteHeader(http.StatusNoContent)
}

// transfer serves POST /v1/calls/{id}/transfers with Aircall's checks; a
// user_id or team_id the company lacks gets 404.
func (s *Server) transfer(w http.ResponseWriter, r *http.Request, callID int64) {
	var body struct {
		UserID              int64  `json:"user_id"`
		TeamID              int64  `json:"team_id"`
		Number              string `json:"number"`
		DispatchingStrategy string `json:"dispatching_strategy"`
	}
	if !decodeBody(w, r, &body, "Send JSON with one of user_id, team_id or number.") {
		return
	}
	n := 0
	for _, set := range []bool{body.UserID != 0, body.TeamID != 0, body.Number != ""} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		writeError(w, http.StatusBadRequest, "Only one of user_id, team_id or number parameters are allowed for each request", "Set exactly one destination.")
		return
	case body.DispatchingStrategy != "" && body.TeamID == 0:
		writeError(w, http.StatusBadRequest, "dispatching_strategy is only allowed with team_id", "Remove dispatching_strategy or transfer to a team.")
		return
	case body.Number != "" && !validE164(body.Number):
		writeError(w, http.StatusBadRequest, "Invalid number", "number must be E.164.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[callID]
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found", "Call not found.")
		return
	}
	if body.UserID != 0 {
		if _, ok := s.byID[body.UserID]; !ok {
			writeError(w, http.StatusNotFound, "Not Found", "User not found.")
			return
		}
	}
	if body.TeamID != 0 {
		if _, ok := s.teams[body.TeamID]; !ok {
			writeError(w, http.StatusNotFound, "Not Found", "Team not found.")
			return
		}
	}
	if c.Status == "done" {
		writeError(w, http.StatusBadRequest, "Call is not in progress", "Only a live call can be transferred.")
		return
	}
	c.TransferredTo, c.TransferredAt = body.UserID, time.Now().Unix()
	s.transfers = append(s.transfers, Transfer{CallID: callID, UserID: body.UserID, TeamID: body.TeamID,
		Number: body.Number, DispatchingStrategy: body.DispatchingStrategy})
	w.WriteHeader(http.StatusNoContent)
}

// decodeBody decodes a JSON request body into v, answering Aircall's 400
// with the hint when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, hint string) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid body", hint)
		return false
	}
	return true
}

func validE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
