package justcalltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
)

type makeCallBody struct {
	From        string      `json:"from"`
	To          string      `json:"to"`
	AgentID     jsonx.Int64 `json:"agent_id"` // a number, or a numeric string
	CallbackURL string      `json:"callback_url"`
	CallerID    string      `json:"caller_id"`
}

// DefaultMakeCallPath is where the simulator serves click-to-call unless
// SetMakeCallPath moves it: the guide's endpoint, which JustCall's v2.1
// reference does not list.
const DefaultMakeCallPath = "/v2/calls/make"

// SetMakeCallPath moves click-to-call to path (for example
// "/v2.1/calls/make"), as an account whose JustCall endpoint differs from
// the guide's would; DefaultMakeCallPath then answers 404. "" restores
// DefaultMakeCallPath.
func (s *Server) SetMakeCallPath(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.makePath = path
}

func (s *Server) makeCallPath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.makePath == "" {
		return DefaultMakeCallPath
	}
	return s.makePath
}

// makeCall is POST /v2/calls/make (or SetMakeCallPath's path) with the click-to-call guide's error
// table: 400 for a
// missing from or to, 404 for a from number not in the account (or an
// unknown agent).
func (s *Server) makeCall(w http.ResponseWriter, r *http.Request) {
	var b makeCallBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON body")
		return
	}
	switch {
	case b.From == "":
		writeError(w, http.StatusBadRequest, "Missing required field: from")
		return
	case b.To == "":
		writeError(w, http.StatusBadRequest, "Missing required field: to")
		return
	}
	s.mu.Lock()
	owner, ok := s.numbers[b.From]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "from number not found in your account")
		return
	}
	agent := int64(b.AgentID)
	if agent == 0 {
		agent = owner
	} else if !s.hasUser(agent) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, fmt.Sprintf("agent %d not found", agent))
		return
	}
	sc, ok := s.scenarios[b.To]
	if !ok {
		sc = s.scenario
	}
	c := &Call{ID: fmt.Sprintf("call_%08d", len(s.calls)+1), From: b.From, To: b.To, AgentID: agent,
		CallbackURL: b.CallbackURL, CallerID: b.CallerID, Scenario: sc, Status: "ringing"}
	s.calls = append(s.calls, c)
	interval := s.interval
	if c.CallbackURL != "" {
		s.wg.Add(1)
		go s.playCallbacks(c.ID, c.CallbackURL, sc, interval)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "success", "message": "Call initiated",
		"data": map[string]any{"call_id": c.ID, "from": c.From, "to": c.To, "agent_id": c.AgentID,
			"direction": "outbound", "status": "ringing"},
	})
}

func (s *Server) hasUser(id int64) bool {
	for _, u := range s.users {
		if u.ID == id {
			return true
		}
	}
	return false
}

func steps(sc Scenario) []string {
	switch sc {
	case ScenarioNoAnswer:
		return []string{"ringing", "no-answer"}
	case ScenarioBusy:
		return []string{"ringing", "busy"}
	case ScenarioFailed:
		return []string{"failed"}
	}
	return []string{"ringing", "in-progress", "completed"}
}

// playCallbacks posts the scenario's statuses to url, in order, stopping
// when the server closes.
func (s *Server) playCallbacks(callID, url string, sc Scenario, interval time.Duration) {
	defer s.wg.Done()
	for i, st := range steps(sc) {
		if i > 0 && interval > 0 {
			t := time.NewTimer(interval)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
		}
		dur := 0
		if st == "completed" {
			dur = CompletedDuration
		}
		body, _ := json.Marshal(map[string]any{
			"call_id": callID, "status": st, "duration": dur,
			"timestamp": time.Now().UTC().Format(time.DateTime),
		})
		d := s.post(url, "callback", callID, st, body, nil)
		s.mu.Lock()
		for _, c := range s.calls {
			if c.ID == callID {
				c.Status = st
			}
		}
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
		if s.ctx.Err() != nil {
			return
		}
	}
}

// post sends one JSON POST and describes it.
func (s *Server) post(url, kind, callID, status string, body []byte, header http.Header) Delivery {
	d := Delivery{URL: url, Kind: kind, CallID: callID, Status: status}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		d.Err = err.Error()
		return d
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.client.Do(req)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	resp.Body.Close()
	d.StatusCode = resp.StatusCode
	return d
}

// findCall returns the placed call with id, or nil. s.mu must be held.
func (s *Server) findCall(id string) *Call {
	for _, c := range s.calls {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// callTypes maps a callback status to the call_info.type JustCall shows.
var callTypes = map[string]string{
	"completed": "Answered", "no-answer": "Unanswered", "busy": "Unanswered", "failed": "Failed",
}

// callObject is c as a v2.1 call object; JustCall's form of the contact
// number (no '+') when s.plainContact is set. s.mu must be held.
func (s *Server) callObject(c *Call) map[string]any {
	dur := 0
	if c.Status == "completed" {
		dur = CompletedDuration
	}
	typ, ok := callTypes[c.Status]
	if !ok {
		typ = "Answered" // ringing or in progress: what the call is becoming in the default scenario
	}
	contact, line, dir := c.To, c.From, "Outgoing"
	if c.Direction == "inbound" || s.uni.inbound[c.ID] { // history calls, and SimulateInbound's (uniform.go)
		contact, line, dir = c.From, c.To, "Incoming"
		dur = c.Duration
		if typ = "Answered"; c.Status != "completed" {
			typ = "Missed"
		}
	}
	if s.plainContact {
		contact = strings.TrimPrefix(contact, "+")
	}
	obj := map[string]any{
		"id": c.ID, "call_sid": c.ID,
		"contact_number": contact, "justcall_number": line, "agent_id": c.AgentID,
		"call_date": "2024-03-21", "call_time": "17:08:22",
		"call_user_date": "2024-03-21", "call_user_time": "10:08:22",
		"call_info":     map[string]any{"direction": dir, "type": typ},
		"call_duration": map[string]any{"total_duration": dur},
	}
	if !c.StartedAt.IsZero() {
		at := c.StartedAt.UTC()
		obj["call_date"], obj["call_time"] = at.Format(time.DateOnly), at.Format(time.TimeOnly)
		obj["call_user_date"], obj["call_user_time"] = at.Format(time.DateOnly), at.Format(time.TimeOnly)
	}
	if c.Direction == "inbound" {
		for _, u := range s.users {
			if u.ID == c.AgentID {
				obj["agent_email"], obj["agent_name"] = u.Email, u.Name
			}
		}
	}
	return obj
}

// getCall serves GET /v2.1/calls/{id} for the calls placed through the
// simulator, as {"status": "success", "data": {call object}}; any other id
// gets JustCall's 404.
func (s *Server) getCall(w http.ResponseWriter, id string) {
	s.mu.Lock()
	c := s.findCall(id)
	var obj map[string]any
	if c != nil {
		obj = s.callObject(c)
	}
	s.mu.Unlock()
	if obj == nil {
		writeError(w, http.StatusNotFound, "Call not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": obj})
}
