package dialpadtest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/telephony"
)

// Router is a call router as the simulator holds it.
type Router struct {
	ID                int64
	Name              string
	RoutingURL        string
	OfficeID          int64
	DefaultTargetID   int64
	DefaultTargetType string
	Enabled           bool
	PhoneNumbers      []string
	Secret            string
	// ErrorCount is the number of routing errors in the past hour. Given to
	// AddRouter, it seeds that many errors timestamped now.
	ErrorCount int
}

type router struct {
	Router
	errs []time.Time // routing errors, oldest first
}

var targetTypes = map[string]bool{
	"callcenter": true, "callrouter": true, "channel": true, "coachinggroup": true, "coachingteam": true,
	"department": true, "office": true, "room": true, "staffgroup": true, "unknown": true, "user": true,
}

// routerBody is Create/UpdateApiCallRouterMessage; ids are accepted as
// numbers or numeric strings.
type routerBody struct {
	Name              *string      `json:"name"`
	RoutingURL        *string      `json:"routing_url"`
	OfficeID          *jsonx.Int64 `json:"office_id"`
	DefaultTargetID   *jsonx.Int64 `json:"default_target_id"`
	DefaultTargetType *string      `json:"default_target_type"`
	Enabled           *bool        `json:"enabled"`
	Secret            *string      `json:"secret"`
	ResetErrorCount   *bool        `json:"reset_error_count"`
}

// AddRouter stores a router directly (no request, no validation) and returns
// it with its id. A zero ID is assigned.
//
// ErrorCount seeds that many routing errors, timestamped at the simulator's
// now (they age out an hour later, see AdvanceClock), so a test can start
// from a router close to Dialpad's threshold: with ErrorCount MaxRouterErrors
// and Enabled true, the next routing error disables it. Enabled is kept as
// given even when ErrorCount exceeds MaxRouterErrors; a negative ErrorCount
// counts as zero.
func (s *Server) AddRouter(r Router) Router {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == 0 {
		r.ID = s.newID()
	}
	r.PhoneNumbers = slices.Clone(r.PhoneNumbers)
	for _, n := range r.PhoneNumbers {
		s.numbers[n] = r.ID
	}
	rt := &router{Router: r}
	if r.ErrorCount > 0 {
		now := s.nowLocked()
		rt.errs = make([]time.Time, r.ErrorCount)
		for i := range rt.errs {
			rt.errs[i] = now
		}
	}
	rt.ErrorCount = 0 // derived from errs on every read
	s.routers[r.ID] = rt
	s.routerOrder = append(s.routerOrder, r.ID)
	return s.snapshot(s.routers[r.ID])
}

// Router returns the router with this id.
func (s *Server) Router(id int64) (Router, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.routers[id]
	if !ok {
		return Router{}, false
	}
	return s.snapshot(r), true
}

// Routers returns every router, oldest first.
func (s *Server) Routers() []Router {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Router, 0, len(s.routerOrder))
	for _, id := range s.routerOrder {
		out = append(out, s.snapshot(s.routers[id]))
	}
	return out
}

// RouterErrorCount returns the router's routing errors in the past hour (the
// count Dialpad disables the router on when it exceeds 10), or -1 when there
// is no such router.
func (s *Server) RouterErrorCount(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.routers[id]
	if !ok {
		return -1
	}
	return s.errorCount(r)
}

// errorCount prunes errors older than an hour. Called with s.mu held.
func (s *Server) errorCount(r *router) int {
	cutoff := s.nowLocked().Add(-time.Hour)
	i := 0
	for i < len(r.errs) && !r.errs[i].After(cutoff) {
		i++
	}
	r.errs = r.errs[i:]
	return len(r.errs)
}

func (s *Server) snapshot(r *router) Router {
	out := r.Router
	out.PhoneNumbers = slices.Clone(r.PhoneNumbers)
	out.ErrorCount = s.errorCount(r)
	return out
}

// json renders ApiCallRouterProto. Called with s.mu held.
func (s *Server) routerJSON(r *router) map[string]any {
	sig := map[string]any{}
	if r.Secret != "" {
		sig = map[string]any{"type": "jwt", "algo": "HS256", "secret": r.Secret}
	}
	nums := slices.Clone(r.PhoneNumbers)
	if nums == nil {
		nums = []string{}
	}
	return map[string]any{
		"id": s.id(r.ID), "name": r.Name, "routing_url": r.RoutingURL, "office_id": s.id(r.OfficeID),
		"default_target_id": s.id(r.DefaultTargetID), "default_target_type": r.DefaultTargetType,
		"enabled": r.Enabled, "phone_numbers": nums, "signature": sig,
	}
}

// validate applies Dialpad's checks; create requires the required fields.
func (b *routerBody) validate(create bool) string {
	if create {
		var missing []string
		if b.Name == nil {
			missing = append(missing, "name")
		}
		if b.RoutingURL == nil {
			missing = append(missing, "routing_url")
		}
		if b.OfficeID == nil {
			missing = append(missing, "office_id")
		}
		if b.DefaultTargetID == nil {
			missing = append(missing, "default_target_id")
		}
		if b.DefaultTargetType == nil {
			missing = append(missing, "default_target_type")
		}
		if len(missing) > 0 {
			return "Missing required field(s): " + strings.Join(missing, ", ")
		}
		if b.ResetErrorCount != nil {
			return "reset_error_count is only valid on update"
		}
	}
	if b.Name != nil && (strings.TrimSpace(*b.Name) == "" || strings.ContainsAny(*b.Name, "\r\n")) {
		return "name must be a non-empty single line"
	}
	if b.RoutingURL != nil {
		u, err := url.Parse(*b.RoutingURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Sprintf("routing_url %q is not a valid URL", *b.RoutingURL)
		}
	}
	if b.OfficeID != nil && *b.OfficeID <= 0 {
		return "office_id must be a valid office id"
	}
	if b.DefaultTargetID != nil && *b.DefaultTargetID <= 0 {
		return "default_target_id must be a valid target id"
	}
	if b.DefaultTargetType != nil && !targetTypes[*b.DefaultTargetType] {
		return fmt.Sprintf("default_target_type %q is not a valid target type", *b.DefaultTargetType)
	}
	if b.Secret != nil && (len([]rune(*b.Secret)) < 32 || strings.ContainsAny(*b.Secret, "\r\n")) {
		return "secret must be a single line of at least 32 characters"
	}
	return ""
}

// readRouterBody decodes and validates a create or update body, answering
// Dialpad's 400 itself when it is refused.
func readRouterBody(w http.ResponseWriter, r *http.Request, create bool) (routerBody, bool) {
	var b routerBody
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return b, false
	}
	if msg := b.validate(create); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return b, false
	}
	return b, true
}

func (s *Server) createRouter(w http.ResponseWriter, r *http.Request) {
	b, ok := readRouterBody(w, r, true)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := &router{Router: Router{ID: s.newID(), Enabled: true}}
	apply(rt, &b)
	s.routers[rt.ID] = rt
	s.routerOrder = append(s.routerOrder, rt.ID)
	writeJSON(w, http.StatusOK, s.routerJSON(rt))
}

func apply(rt *router, b *routerBody) {
	if b.Name != nil {
		rt.Name = *b.Name
	}
	if b.RoutingURL != nil {
		rt.RoutingURL = *b.RoutingURL
	}
	if b.OfficeID != nil {
		rt.OfficeID = int64(*b.OfficeID)
	}
	if b.DefaultTargetID != nil {
		rt.DefaultTargetID = int64(*b.DefaultTargetID)
	}
	if b.DefaultTargetType != nil {
		rt.DefaultTargetType = *b.DefaultTargetType
	}
	if b.Enabled != nil {
		rt.Enabled = *b.Enabled
	}
	if b.Secret != nil {
		rt.Secret = *b.Secret
	}
	// Enabling alone keeps the error count, as on Dialpad: the router is
	// disabled again after the next error.
	if b.ResetErrorCount != nil && *b.ResetErrorCount {
		rt.errs = nil
	}
}

func (s *Server) getRouter(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.routers[id]
	if !ok || rt == nil {
		writeError(w, http.StatusNotFound, "Call router not found")
		return
	}
	writeJSON(w, http.StatusOK, s.routerJSON(rt))
}

func (s *Server) listRouters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var office int64
	if v := q.Get("office_id"); v != "" {
		var n jsonx.Int64
		if err := n.UnmarshalJSON([]byte(v)); err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "office_id must be an integer")
			return
		}
		office = int64(n)
	}
	off, ok := decodeCursor("routers", q.Get("cursor"))
	if !ok {
		writeError(w, http.StatusBadRequest, "Invalid cursor")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*router
	for _, id := range s.routerOrder {
		if rt := s.routers[id]; office == 0 || rt.OfficeID == office {
			all = append(all, rt)
		}
	}
	items := []any{}
	end := min(off+s.pageSize, len(all))
	for i := min(off, len(all)); i < end; i++ {
		items = append(items, s.routerJSON(all[i]))
	}
	out := map[string]any{"items": items}
	if end < len(all) {
		out["cursor"] = encodeCursor("routers", end)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateRouter(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	b, valid := readRouterBody(w, r, false)
	if !valid {
		return
	}
	s.mu.Lock()
	rt := s.routers[id]
	if !ok || rt == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Call router not found")
		return
	}
	if !s.allowKeyed(s.routerLim, id, s.limits.RouterUpdatesPer5Minutes, 5*time.Minute) {
		s.mu.Unlock()
		s.tooMany(w, "Rate limit exceeded: callrouters.update allows 1 per 5 minute")
		return
	}
	apply(rt, &b)
	out := s.routerJSON(rt)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteRouter(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.routers[id]
	if !ok || rt == nil {
		writeError(w, http.StatusNotFound, "Call router not found")
		return
	}
	// The numbers go back to the company's reserve.
	for _, n := range rt.PhoneNumbers {
		delete(s.numbers, n)
	}
	delete(s.routers, id)
	s.routerOrder = slices.DeleteFunc(s.routerOrder, func(v int64) bool { return v == id })
	w.WriteHeader(http.StatusOK)
}

func (s *Server) assignNumber(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	var b struct {
		AreaCode *string `json:"area_code"`
		Number   *string `json:"number"`
		Primary  *bool   `json:"primary"`
	}
	if err := decode(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if b.Number != nil {
		if err := telephony.ValidateE164(*b.Number); err != nil {
			writeError(w, http.StatusBadRequest, "number must be e164-formatted")
			return
		}
	}
	area := "415"
	if b.AreaCode != nil {
		if len(*b.AreaCode) != 3 || strings.Trim(*b.AreaCode, "0123456789") != "" {
			writeError(w, http.StatusBadRequest, "area_code must be a 3-digit area code")
			return
		}
		area = *b.AreaCode
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.routers[id]
	if !ok || rt == nil {
		writeError(w, http.StatusNotFound, "Call router not found")
		return
	}
	num := ""
	if b.Number != nil {
		num = *b.Number
		if owner, taken := s.numbers[num]; taken {
			writeError(w, http.StatusConflict, fmt.Sprintf("Number %s is already assigned (to call router %d)", num, owner))
			return
		}
		if strings.HasPrefix(num, "+1") && len(num) == 12 {
			area = num[2:5]
		}
	} else {
		for {
			s.nextNumber++
			num = fmt.Sprintf("+1%s555%04d", area, s.nextNumber%10000)
			if _, taken := s.numbers[num]; !taken {
				break
			}
		}
	}
	s.numbers[num] = id
	if b.Primary == nil || *b.Primary {
		rt.PhoneNumbers = append([]string{num}, rt.PhoneNumbers...)
	} else {
		rt.PhoneNumbers = append(rt.PhoneNumbers, num)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"number": num, "area_code": area, "company_id": s.id(CompanyID), "office_id": s.id(rt.OfficeID),
		"target_id": s.id(id), "target_type": "callrouter", "status": "call_router", "type": "local", "deleted": false,
	})
}
