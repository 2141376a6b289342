package dialpadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/telephony"
)

// MaxRouterErrors is Dialpad's auto-disable threshold: a router with more
// than this many routing errors in the past hour is disabled.
const MaxRouterErrors = 10

// InboundResult reports where SimulateInboundCall sent a call.
type InboundResult struct {
	CallID int64
	// TargetID and TargetType are where the call went.
	TargetID   int64
	TargetType string
	// Fallback reports that the call went to the router's default target:
	// the routing_url failed (Err says how) or the router is disabled.
	Fallback bool
	// Skipped reports that the router was disabled, so the routing_url was
	// not asked.
	Skipped bool
	// Err is the routing error Dialpad would count: a non-200, an invalid
	// answer, or no answer within the routing timeout.
	Err error
	// Status is the routing_url's HTTP status, 0 when none arrived.
	Status int
	// Latency is how long the routing_url took to answer (or to fail).
	Latency time.Duration
	// Disabled reports that this call's error disabled the router.
	Disabled bool
}

var routeTargetTypes = map[string]bool{"office": true, "callcenter": true, "user": true, "department": true}

// SimulateInboundCall delivers a call from the E.164 number from to the
// router's number to (the router's first number when ""), as Dialpad does:
// it POSTs the routing request to the router's routing_url (an HS256 JWT of
// the request JSON when the router has a secret, the JSON itself
// otherwise), waits at most the routing timeout (5 s), and routes the call to
// the answer's target. A non-200, an invalid answer or a late one routes to
// the router's default target and counts a routing error; when the errors in
// the past hour exceed 10 the router is disabled, and later calls go to the
// default target without asking the routing_url.
//
// The error is for the simulation itself (no such router, a bad number, ctx
// ended); routing failures are reported in the result.
//
// SimulateInbound(ctx, InboundCall{RouterID: routerID, From: from, To:
// to}), the shape the three simulators share, does the same.
func (s *Server) SimulateInboundCall(ctx context.Context, routerID int64, from, to string) (InboundResult, error) {
	if err := telephony.ValidateE164(from); err != nil {
		return InboundResult{}, fmt.Errorf("dialpadtest: from: %v", err)
	}
	s.mu.Lock()
	rt, ok := s.routers[routerID]
	if !ok {
		s.mu.Unlock()
		return InboundResult{}, fmt.Errorf("dialpadtest: no call router %d", routerID)
	}
	if to == "" {
		to = "+14155550000"
		if len(rt.PhoneNumbers) > 0 {
			to = rt.PhoneNumbers[0]
		}
	}
	if err := telephony.ValidateE164(to); err != nil {
		s.mu.Unlock()
		return InboundResult{}, fmt.Errorf("dialpadtest: to: %v", err)
	}
	callID := s.newID()
	contact, ok := s.contacts[from]
	if !ok {
		contact = s.newID()
		s.contacts[from] = contact
	}
	started := s.nowLocked()
	res := InboundResult{CallID: callID, TargetID: rt.DefaultTargetID, TargetType: rt.DefaultTargetType, Fallback: true}
	enabled, url, secret, wait := rt.Enabled, rt.RoutingURL, rt.Secret, s.routeWait
	claims := map[string]any{
		"date_started": started.UnixMilli(), "call_id": s.eventID(callID), "external_number": from, "internal_number": to,
		"contact_id": s.eventID(contact), "contact_type": "local",
	}
	s.mu.Unlock()

	if !enabled {
		res.Skipped = true
	} else {
		t0 := time.Now()
		id, typ, status, err := s.askRouter(ctx, url, secret, claims, wait)
		res.Latency, res.Status = time.Since(t0), status
		if ctx.Err() != nil {
			return InboundResult{}, ctx.Err()
		}
		if err == nil {
			res.TargetID, res.TargetType, res.Fallback = id, typ, false
		} else {
			res.Err = err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := s.routers[routerID]; rt != nil && res.Err != nil {
		rt.errs = append(rt.errs, s.nowLocked())
		if s.errorCount(rt) > MaxRouterErrors && rt.Enabled {
			rt.Enabled = false
			res.Disabled = true
		}
	}
	c := &Call{Direction: "inbound", State: "ringing", ExternalNumber: from, InternalNumber: to,
		TargetID: res.TargetID, TargetType: res.TargetType}
	c.ID, c.Started = callID, started
	s.calls[c.ID] = c
	s.callOrder = append(s.callOrder, c.ID)
	s.emit(c)
	return res, nil
}

// askRouter sends the routing request and validates the answer.
func (s *Server) askRouter(ctx context.Context, url, secret string, claims map[string]any, wait time.Duration) (int64, string, int, error) {
	body, ctype, err := encodePayload(claims, secret)
	if err != nil {
		return 0, "", 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, fmt.Errorf("bad routing_url: %v", err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	resp, err := s.out.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "", 0, fmt.Errorf("no routing answer within %v", wait)
		}
		return 0, "", 0, fmt.Errorf("routing request failed: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, "", resp.StatusCode, fmt.Errorf("reading the routing answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", resp.StatusCode, fmt.Errorf("routing_url answered %d", resp.StatusCode)
	}
	var ans struct {
		Action     *string      `json:"action"`
		TargetID   *jsonx.Int64 `json:"target_id"`
		TargetType *string      `json:"target_type"`
	}
	if err := json.Unmarshal(data, &ans); err != nil {
		return 0, "", resp.StatusCode, fmt.Errorf("routing answer is not the expected JSON: %v", err)
	}
	switch {
	case ans.Action != nil && *ans.Action != "route":
		return 0, "", resp.StatusCode, fmt.Errorf("routing answer has action %q; only \"route\" is supported", *ans.Action)
	case ans.TargetID == nil || *ans.TargetID <= 0:
		return 0, "", resp.StatusCode, errors.New("routing answer has no valid target_id")
	case ans.TargetType == nil || !routeTargetTypes[*ans.TargetType]:
		return 0, "", resp.StatusCode, errors.New("routing answer's target_type is not office, callcenter, user or department")
	}
	return int64(*ans.TargetID), *ans.TargetType, resp.StatusCode, nil
}
