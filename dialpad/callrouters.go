package dialpad

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/transport"
	"github.com/switchboard-go/switchboard/telephony"
)

// RouterUpdateInterval is Dialpad's limit on call router updates: one PATCH
// per router every 5 minutes. The client enforces it before sending.
const RouterUpdateInterval = 5 * time.Minute

// MinSecretLength is the shortest call router secret Dialpad accepts
// ("generate with a minimum length of 32 characters").
const MinSecretLength = 32

// Target types Dialpad accepts as a call router's default target (the
// OpenAPI enum). A routing answer may use only office, callcenter, user or
// department.
const (
	TargetTypeCallCenter    = "callcenter"
	TargetTypeCallRouter    = "callrouter"
	TargetTypeChannel       = "channel"
	TargetTypeCoachingGroup = "coachinggroup"
	TargetTypeCoachingTeam  = "coachingteam"
	TargetTypeDepartment    = "department"
	TargetTypeOffice        = "office"
	TargetTypeRoom          = "room"
	TargetTypeStaffGroup    = "staffgroup"
	TargetTypeUnknown       = "unknown"
	TargetTypeUser          = "user"
)

var defaultTargetTypes = map[string]bool{
	TargetTypeCallCenter: true, TargetTypeCallRouter: true, TargetTypeChannel: true, TargetTypeCoachingGroup: true,
	TargetTypeCoachingTeam: true, TargetTypeDepartment: true, TargetTypeOffice: true, TargetTypeRoom: true,
	TargetTypeStaffGroup: true, TargetTypeUnknown: true, TargetTypeUser: true,
}

// CallRouter is an API call router (ApiCallRouterProto): inbound calls to its
// numbers are routed by asking RoutingURL, falling back to the default
// target. IDs decode from JSON numbers and from numeric strings (Dialpad's
// own examples send strings) and encode as numbers.
type CallRouter struct {
	ID                int64  `json:"id"`
	Name              string `json:"name"`
	RoutingURL        string `json:"routing_url"`
	OfficeID          int64  `json:"office_id"`
	DefaultTargetID   int64  `json:"default_target_id"`
	DefaultTargetType string `json:"default_target_type"`
	// Enabled false means calls skip RoutingURL and go straight to the
	// default target. Dialpad sets it to false by itself after more than 10
	// routing errors in an hour; see CallRoutersService.Reenable.
	Enabled      bool       `json:"enabled"`
	PhoneNumbers []string   `json:"phone_numbers,omitempty"`
	Signature    *Signature `json:"signature,omitempty"`
}

// Signature says how routing requests are signed: a JWT (Type "jwt") with
// algorithm Algo ("HS256") under Secret. Nil when the router has no secret.
type Signature struct {
	Algo   string `json:"algo,omitempty"`
	Secret string `json:"secret,omitempty"`
	Type   string `json:"type,omitempty"`
}

// String describes the signature without its secret, so that printing a
// router does not leak it.
func (s Signature) String() string {
	sec := "none"
	if s.Secret != "" {
		sec = "set"
	}
	return fmt.Sprintf("{type:%s algo:%s secret:%s}", s.Type, s.Algo, sec)
}

// UnmarshalJSON accepts ids as numbers or numeric strings.
func (r *CallRouter) UnmarshalJSON(b []byte) error {
	type plain CallRouter
	var w struct {
		plain
		ID              jsonx.Int64 `json:"id"`
		OfficeID        jsonx.Int64 `json:"office_id"`
		DefaultTargetID jsonx.Int64 `json:"default_target_id"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = CallRouter(w.plain)
	r.ID, r.OfficeID, r.DefaultTargetID = int64(w.ID), int64(w.OfficeID), int64(w.DefaultTargetID)
	if r.Signature != nil && *r.Signature == (Signature{}) {
		r.Signature = nil // Dialpad sends "signature": {} for a router without a secret
	}
	return nil
}

// CreateCallRouterRequest is the body of CallRouters.Create
// (CreateApiCallRouterMessage). Name, RoutingURL, OfficeID, DefaultTargetID
// and DefaultTargetType are required.
type CreateCallRouterRequest struct {
	Name string `json:"name"`
	// RoutingURL is consulted for every inbound call: an absolute http or
	// https URL (serve it with NewRoutingHandler).
	RoutingURL        string `json:"routing_url"`
	OfficeID          int64  `json:"office_id"`
	DefaultTargetID   int64  `json:"default_target_id"`
	DefaultTargetType string `json:"default_target_type"`
	// Enabled defaults to true at Dialpad when nil.
	Enabled *bool `json:"enabled,omitempty"`
	// Secret, when set, makes Dialpad sign routing requests as HS256 JWTs.
	// At least MinSecretLength characters.
	Secret string `json:"secret,omitempty"`
}

// UpdateCallRouterRequest is the body of CallRouters.Update
// (UpdateApiCallRouterMessage). Nil fields are left unchanged.
type UpdateCallRouterRequest struct {
	Name              *string `json:"name,omitempty"`
	RoutingURL        *string `json:"routing_url,omitempty"`
	OfficeID          *int64  `json:"office_id,omitempty"`
	DefaultTargetID   *int64  `json:"default_target_id,omitempty"`
	DefaultTargetType *string `json:"default_target_type,omitempty"`
	// Enabled true re-enables a router Dialpad disabled. On its own it does
	// NOT reset the router's routing error count, so one more error disables
	// it again; set ResetErrorCount too (or use Reenable).
	Enabled *bool   `json:"enabled,omitempty"`
	Secret  *string `json:"secret,omitempty"`
	// ResetErrorCount sets the router's auto-disable error count (errors in
	// the past hour; more than 10 disables the router) back to zero.
	ResetErrorCount bool `json:"reset_error_count,omitempty"`
}

// AssignNumberRequest is the body of CallRouters.AssignNumber
// (AssignNumberMessage). All fields are optional: with none, Dialpad takes a
// number from the company's reserved pool.
type AssignNumberRequest struct {
	// AreaCode picks an available number in this area code.
	AreaCode string `json:"area_code,omitempty"`
	// Number assigns this E.164 number.
	Number string `json:"number,omitempty"`
	// Primary makes it the router's primary number (Dialpad's default: true).
	Primary *bool `json:"primary,omitempty"`
}

// Number is a Dialpad phone number (NumberProto).
type Number struct {
	Number     string `json:"number"`
	AreaCode   string `json:"area_code,omitempty"`
	CompanyID  int64  `json:"company_id,omitempty"`
	OfficeID   int64  `json:"office_id,omitempty"`
	TargetID   int64  `json:"target_id,omitempty"`
	TargetType string `json:"target_type,omitempty"`
	Status     string `json:"status,omitempty"`
	Type       string `json:"type,omitempty"`
	Deleted    bool   `json:"deleted,omitempty"`
}

// UnmarshalJSON accepts ids as numbers or numeric strings.
func (n *Number) UnmarshalJSON(b []byte) error {
	type plain Number
	var w struct {
		plain
		CompanyID jsonx.Int64 `json:"company_id"`
		OfficeID  jsonx.Int64 `json:"office_id"`
		TargetID  jsonx.Int64 `json:"target_id"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*n = Number(w.plain)
	n.CompanyID, n.OfficeID, n.TargetID = int64(w.CompanyID), int64(w.OfficeID), int64(w.TargetID)
	return nil
}

// ListCallRoutersOptions filters CallRouters.List.
type ListCallRoutersOptions struct {
	// OfficeID lists only that office's routers; zero lists the company's.
	OfficeID int64
}

// CallRoutersService manages API call routers. Get it from Client.CallRouters.
type CallRoutersService struct {
	c *Client
}

// Create creates a call router. The request is validated first: the required
// fields, routing_url an absolute http(s) URL, a known default_target_type
// and a secret of at least 32 characters.
func (s *CallRoutersService) Create(ctx context.Context, req CreateCallRouterRequest) (*CallRouter, error) {
	const op = "POST /api/v2/callrouters"
	if err := req.validate(op); err != nil {
		return nil, err
	}
	var out CallRouter
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost, Path: "/api/v2/callrouters", Body: req, Out: &out,
		Check: func() error { return routerID(0, out.ID) }}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns the call router with the given id.
func (s *CallRoutersService) Get(ctx context.Context, id int64) (*CallRouter, error) {
	const op = "GET /api/v2/callrouters/{id}"
	if id <= 0 {
		return nil, invalid(op, "router id %d must be positive", id)
	}
	var out CallRouter
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: routerPath(id), Route: "/api/v2/callrouters/{id}", Out: &out,
		Check: func() error { return routerID(id, out.ID) }}); err != nil {
		return nil, err
	}
	return &out, nil
}

// List iterates over the company's call routers, following Dialpad's cursor.
// Breaking out of the loop stops fetching; an error is yielded once and ends
// the sequence.
func (s *CallRoutersService) List(ctx context.Context, opts *ListCallRoutersOptions) iter.Seq2[CallRouter, error] {
	q := url.Values{}
	if opts != nil && opts.OfficeID != 0 {
		q.Set("office_id", strconv.FormatInt(opts.OfficeID, 10))
	}
	return listCursor[CallRouter](ctx, s.c, "/api/v2/callrouters", q)
}

// Update changes the fields of req that are not nil. Dialpad allows one
// update per router every 5 minutes; a second update within that time fails
// at once with an error matching telephony.ErrRateLimited whose RetryAfter
// says how long to wait, and nothing is sent.
//
// Setting Enabled to true does not reset the router's routing error count:
// Dialpad keeps counting the past hour's errors and disables the router again
// after the next one. Set ResetErrorCount as well, or call Reenable.
func (s *CallRoutersService) Update(ctx context.Context, id int64, req UpdateCallRouterRequest) (*CallRouter, error) {
	const op = "PATCH /api/v2/callrouters/{id}"
	if id <= 0 {
		return nil, invalid(op, "router id %d must be positive", id)
	}
	if err := req.validate(op); err != nil {
		return nil, err
	}
	lim := s.c.t.Account().Keyed("dialpad.callrouters.update", RouterUpdateInterval, 1)
	// Never sleep for this one: the wait is minutes, and the caller should
	// decide whether to come back.
	release, wait, ok, err := lim.Take(ctx, strconv.FormatInt(id, 10), 0)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rateLimited(op, wait, fmt.Sprintf(
			"Dialpad allows one update per call router every %v; router %d was updated less than %v ago: wait %v",
			RouterUpdateInterval, id, RouterUpdateInterval, wait.Round(time.Second)))
	}
	var out CallRouter
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPatch, Path: routerPath(id), Route: "/api/v2/callrouters/{id}", Body: req, Out: &out,
		Check: func() error { return routerID(id, out.ID) }}); err != nil {
		if !mayHaveActed(err) {
			release() // a refused update must not lock the router for 5 minutes
		}
		return nil, err
	}
	return &out, nil
}

// routerID checks that an answer is about router want (any router when want
// is 0): a 2xx holding no router, or another one, is not success.
func routerID(want, got int64) error {
	switch {
	case got <= 0:
		return fmt.Errorf("the answer holds no call router (id %d)", got)
	case want != 0 && got != want:
		return fmt.Errorf("asked about call router %d, the answer is about router %d", want, got)
	}
	return nil
}

// mayHaveActed reports whether a failed request may still have been carried
// out by Dialpad: it answered 2xx (with a body we could not read), or the
// outcome is unknown. Anything else (a 4xx, a 429, nothing sent) did not
// use up a per-endpoint slot.
func mayHaveActed(err error) bool {
	var te *telephony.Error
	if errors.As(err, &te) && te.StatusCode >= 200 && te.StatusCode < 300 {
		return true
	}
	return errors.Is(err, telephony.ErrOutcomeUnknown)
}

// Reenable brings back a router that Dialpad disabled after too many routing
// errors, the way Dialpad recommends for inconsistent errors: one PATCH with
// enabled=true and reset_error_count=true, so that the error count starts
// from zero instead of disabling the router again after the next error. Fix
// the routing endpoint first. It counts as the router's one update per 5
// minutes.
func (s *CallRoutersService) Reenable(ctx context.Context, id int64) (*CallRouter, error) {
	enabled := true
	return s.Update(ctx, id, UpdateCallRouterRequest{Enabled: &enabled, ResetErrorCount: true})
}

// Delete deletes the router. It takes effect at once, and the router's
// numbers go back to the company's reserved pool. Like every delete it is
// retried after a lost answer; a 404 on such a retry counts as success.
func (s *CallRoutersService) Delete(ctx context.Context, id int64) error {
	const op = "DELETE /api/v2/callrouters/{id}"
	if id <= 0 {
		return invalid(op, "router id %d must be positive", id)
	}
	_, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodDelete, Path: routerPath(id), Route: "/api/v2/callrouters/{id}"})
	// A 404 on a retry means an earlier attempt, whose answer was lost,
	// deleted the router: that is the outcome the caller asked for.
	var te *telephony.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound && te.Attempts > 1 {
		return nil
	}
	return err
}

// AssignNumber assigns a phone number to the router: req.Number, or one from
// the company's reserved pool, or a new one in req.AreaCode.
func (s *CallRoutersService) AssignNumber(ctx context.Context, id int64, req AssignNumberRequest) (*Number, error) {
	const op = "POST /api/v2/callrouters/{id}/assign_number"
	if id <= 0 {
		return nil, invalid(op, "router id %d must be positive", id)
	}
	if req.Number != "" {
		if err := telephony.ValidateE164(req.Number); err != nil {
			return nil, invalid(op, "number: %v", err)
		}
	}
	if req.AreaCode != "" && !allDigits(req.AreaCode) {
		return nil, invalid(op, "area code %q must be digits", req.AreaCode)
	}
	var out Number
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost, Path: routerPath(id) + "/assign_number",
		Route: "/api/v2/callrouters/{id}/assign_number", Body: req, Out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

func routerPath(id int64) string { return "/api/v2/callrouters/" + strconv.FormatInt(id, 10) }

func (r *CreateCallRouterRequest) validate(op string) error {
	if err := validateName(r.Name); err != nil {
		return invalid(op, "%v", err)
	}
	if err := validateRoutingURL(r.RoutingURL); err != nil {
		return invalid(op, "%v", err)
	}
	if r.OfficeID <= 0 {
		return invalid(op, "office_id is required (a positive Dialpad office id)")
	}
	if r.DefaultTargetID <= 0 {
		return invalid(op, "default_target_id is required: the target calls go to when the routing URL fails")
	}
	if err := validateTargetType(r.DefaultTargetType); err != nil {
		return invalid(op, "%v", err)
	}
	if r.Secret != "" {
		if err := validateSecret(r.Secret); err != nil {
			return invalid(op, "%v", err)
		}
	}
	return nil
}

func (r *UpdateCallRouterRequest) validate(op string) error {
	if *r == (UpdateCallRouterRequest{}) {
		return invalid(op, "nothing to update: every field is nil and ResetErrorCount is false")
	}
	if r.Name != nil {
		if err := validateName(*r.Name); err != nil {
			return invalid(op, "%v", err)
		}
	}
	if r.RoutingURL != nil {
		if err := validateRoutingURL(*r.RoutingURL); err != nil {
			return invalid(op, "%v", err)
		}
	}
	if r.OfficeID != nil && *r.OfficeID <= 0 {
		return invalid(op, "office_id %d must be positive", *r.OfficeID)
	}
	if r.DefaultTargetID != nil && *r.DefaultTargetID <= 0 {
		return invalid(op, "default_target_id %d must be positive", *r.DefaultTargetID)
	}
	if r.DefaultTargetType != nil {
		if err := validateTargetType(*r.DefaultTargetType); err != nil {
			return invalid(op, "%v", err)
		}
	}
	if r.Secret != nil {
		if err := validateSecret(*r.Secret); err != nil {
			return invalid(op, "%v", err)
		}
	}
	return nil
}

func validateName(name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("name is required")
	}
	if strings.ContainsAny(name, "\r\n") {
		return fmt.Errorf("name must be a single line")
	}
	return nil
}

func validateRoutingURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("routing_url is required: the URL Dialpad asks where to route each call")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("routing_url %q is not a URL: %v", raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("routing_url %q must be an absolute http or https URL", raw)
	}
	if u.User != nil {
		return fmt.Errorf("routing_url must not contain credentials; set a secret so requests are signed")
	}
	return nil
}

func validateTargetType(t string) error {
	if t == "" {
		return fmt.Errorf("default_target_type is required (office, department, callcenter or user)")
	}
	if !defaultTargetTypes[t] {
		return fmt.Errorf("default_target_type %q is not one of Dialpad's target types (office, department, callcenter, user, ...)", t)
	}
	return nil
}

func validateSecret(secret string) error {
	if n := len([]rune(secret)); n < MinSecretLength {
		return fmt.Errorf("secret has %d characters; Dialpad requires at least %d", n, MinSecretLength)
	}
	if strings.ContainsAny(secret, "\r\n") {
		return fmt.Errorf("secret must be a single line")
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
