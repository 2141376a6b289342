package aircalltest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Delivery is one webhook POST the simulator made.
type Delivery struct {
	Event  string
	CallID int64
	Status int   // the receiver's answer, 0 when none came
	Err    error // a transport error
	// WebhookID is the REST-created webhook posted to; "" for the one
	// registered with SetWebhook.
	WebhookID string
}

// SetWebhook registers the URL that receives call events and the token
// Aircall puts in every payload (the webhook's token, returned when it was
// created). An empty token is left out of the payloads. AddWebhook, the
// name the three simulators share, adds a webhook instead of replacing
// this one.
func (s *Server) SetWebhook(url, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookURL, s.hookToken = url, token
}

// Deliveries returns the webhook posts made so far, in order.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// SimulateInboundCall creates an inbound call from the caller from to the
// company number to (see CreateInboundCall), posts call.created to the
// registered webhook, and returns the call id once the webhook answered.
// Later events follow from AnswerCall and HangUp. SimulateInbound does the
// same with the shape the three simulators share.
func (s *Server) SimulateInboundCall(from, to string) (callID int64) {
	id := s.CreateInboundCall(from, to)
	_, _ = s.DeliverEvent("call.created", id)
	return id
}

// AnswerCall makes user userID answer the call and posts call.answered.
func (s *Server) AnswerCall(callID, userID int64) error {
	s.mu.Lock()
	c, ok := s.calls[callID]
	if ok {
		c.Status, c.UserID, c.AnsweredAt = "answered", userID, time.Now().Unix()
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("aircalltest: no call %d", callID)
	}
	_, err := s.DeliverEvent("call.answered", callID)
	return err
}

// HangUp ends the call (a missed call if nobody answered) and posts
// call.hungup, then call.ended.
func (s *Server) HangUp(callID int64) error {
	s.mu.Lock()
	c, ok := s.calls[callID]
	if ok && c.Status != "done" {
		c.Status, c.EndedAt = "done", max(time.Now().Unix(), c.StartedAt)
		if c.AnsweredAt == 0 && c.Direction == "inbound" {
			c.MissedCallReason = "agents_did_not_answer"
		}
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("aircalltest: no call %d", callID)
	}
	if _, err := s.DeliverEvent("call.hungup", callID); err != nil {
		return err
	}
	_, err := s.DeliverEvent("call.ended", callID)
	return err
}

// Payload returns the webhook body Aircall would send for event about the
// call, with the registered token. A redelivery of the same event is the
// same body: its timestamp is the time of the state change.
func (s *Server) Payload(event string, callID int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.payloadLocked(event, callID)
}

func (s *Server) payloadLocked(event string, callID int64) ([]byte, error) {
	return s.payloadTokenLocked(event, callID, s.hookToken)
}

func (s *Server) payloadTokenLocked(event string, callID int64, token string) ([]byte, error) {
	c, ok := s.calls[callID]
	if !ok {
		return nil, fmt.Errorf("aircalltest: no call %d", callID)
	}
	ts := c.StartedAt
	switch event {
	case "call.answered":
		ts = c.AnsweredAt
	case "call.hungup", "call.ended":
		ts = c.EndedAt
	case "call.transferred":
		ts = c.TransferredAt
	}
	body := map[string]any{"resource": "call", "event": event, "timestamp": ts, "data": s.wireCallLocked(c)}
	if token != "" { // an empty token is left out, as a forged body would
		body["token"] = token
	}
	return json.Marshal(body)
}

// DeliverEvent posts event about the call to the webhook registered with
// SetWebhook, then to every active webhook created through the REST API
// whose events hold it (each body carrying that webhook's token), and
// returns the first receiver's status and transport error (0 and nil
// when no active webhook subscribes to the event). Calling it
// again redelivers the same bodies. A REST webhook whose deliveries fail
// SetWebhookFailureLimit times in a row is deactivated, as Aircall does.
func (s *Server) DeliverEvent(event string, callID int64) (status int, err error) {
	s.mu.Lock()
	targets := s.targetsLocked(event)
	bodies := make([][]byte, len(targets))
	for i, t := range targets {
		if bodies[i], err = s.payloadTokenLocked(event, callID, t.token); err != nil {
			break
		}
	}
	if _, ok := s.calls[callID]; !ok && err == nil {
		err = fmt.Errorf("aircalltest: no call %d", callID)
	}
	none := s.hookURL == "" && len(s.api.order) == 0
	s.mu.Unlock()
	switch {
	case err != nil:
		return 0, err
	case none:
		return 0, errors.New("aircalltest: no webhook registered (SetWebhook or POST /v1/webhooks)")
	case len(targets) == 0:
		return 0, nil // no active webhook subscribes to this event
	}
	for i, t := range targets {
		st, perr := s.post(t.url, bodies[i])
		if t.id != "" {
			s.recordResult(t.id, perr == nil && st >= 200 && st < 300)
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, Delivery{Event: event, CallID: callID, Status: st, Err: perr, WebhookID: t.id})
		s.mu.Unlock()
		if i == 0 {
			status, err = st, perr
		}
	}
	return status, err
}

func (s *Server) post(url string, body []byte) (status int, err error) {
	resp, err := s.hc.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
