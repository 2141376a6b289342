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

	"github.com/switchboard-go/switchboard/internal/jsonx"
	"github.com/switchboard-go/switchboard/internal/transport"
)

// Call states a call event subscription can ask for (the OpenAPI enum of
// call_states). CallStateAll asks for every state.
const (
	CallStateAdmin             = "admin"
	CallStateAdminRecording    = "admin_recording"
	CallStateAIPlaybook        = "ai_playbook"
	CallStateAll               = "all"
	CallStateBarge             = "barge"
	CallStateBlocked           = "blocked"
	CallStateCallTranscription = "call_transcription"
	CallStateCalling           = "calling"
	CallStateConnected         = "connected"
	CallStateCSAT              = "csat"
	CallStateDispositions      = "dispositions"
	CallStateEavesdrop         = "eavesdrop"
	CallStateHangup            = "hangup"
	CallStateHold              = "hold"
	CallStateMerged            = "merged"
	CallStateMissed            = "missed"
	CallStateMonitor           = "monitor"
	CallStateParked            = "parked"
	CallStatePCSAT             = "pcsat"
	CallStatePostcall          = "postcall"
	CallStatePreanswer         = "preanswer"
	CallStateQueued            = "queued"
	CallStateRecapActionItems  = "recap_action_items"
	CallStateRecapOutcome      = "recap_outcome"
	CallStateRecapPurposes     = "recap_purposes"
	CallStateRecapSummary      = "recap_summary"
	CallStateRecording         = "recording"
	CallStateRinging           = "ringing"
	CallStateTakeover          = "takeover"
	CallStateTranscription     = "transcription"
	CallStateVoicemail         = "voicemail"
	CallStateVoicemailUploaded = "voicemail_uploaded"
)

var callStates = map[string]bool{
	CallStateAdmin: true, CallStateAdminRecording: true, CallStateAIPlaybook: true, CallStateAll: true,
	CallStateBarge: true, CallStateBlocked: true, CallStateCallTranscription: true, CallStateCalling: true,
	CallStateConnected: true, CallStateCSAT: true, CallStateDispositions: true, CallStateEavesdrop: true,
	CallStateHangup: true, CallStateHold: true, CallStateMerged: true, CallStateMissed: true,
	CallStateMonitor: true, CallStateParked: true, CallStatePCSAT: true, CallStatePostcall: true,
	CallStatePreanswer: true, CallStateQueued: true, CallStateRecapActionItems: true, CallStateRecapOutcome: true,
	CallStateRecapPurposes: true, CallStateRecapSummary: true, CallStateRecording: true, CallStateRinging: true,
	CallStateTakeover: true, CallStateTranscription: true, CallStateVoicemail: true, CallStateVoicemailUploaded: true,
}

// CallSubscription is a call event subscription (CallEventSubscriptionProto):
// the call events of the chosen states, optionally of one target's calls,
// sent to a webhook. IDs decode from JSON numbers and numeric strings.
type CallSubscription struct {
	ID int64 `json:"id"`
	// CallStates are the states events are sent for.
	CallStates []string `json:"call_states"`
	// Enabled false stops the events without deleting the subscription.
	Enabled bool `json:"enabled"`
	// GroupCallsOnly limits the events to calls to a group (call center,
	// department, office).
	GroupCallsOnly bool `json:"group_calls_only"`
	// TargetID and TargetType, when set, scope the events to the calls to
	// or from that target.
	TargetID   int64  `json:"target_id,omitempty"`
	TargetType string `json:"target_type,omitempty"`
	// Webhook is where the events go (nil for a websocket subscription).
	Webhook *Webhook `json:"webhook,omitempty"`
}

// UnmarshalJSON accepts ids as numbers or numeric strings.
func (s *CallSubscription) UnmarshalJSON(b []byte) error {
	type plain CallSubscription
	var v struct {
		plain
		ID       jsonx.Int64 `json:"id"`
		TargetID jsonx.Int64 `json:"target_id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = CallSubscription(v.plain)
	s.ID, s.TargetID = int64(v.ID), int64(v.TargetID)
	return nil
}

// CreateCallSubscriptionRequest is the body of CallSubscriptions.Create
// (CreateCallEventSubscription).
type CreateCallSubscriptionRequest struct {
	// EndpointID is the webhook (Webhooks.Create) the events go to.
	// Required. Dialpad calls it endpoint_id because a websocket id is
	// accepted too.
	EndpointID int64 `json:"endpoint_id"`
	// CallStates limits the events to these states (CallState...
	// constants; CallStateAll for all of them). Dialpad's reference makes
	// it optional and does not say what an empty list subscribes to, so
	// the client requires at least one state.
	CallStates []string `json:"call_states"`
	// Enabled defaults to true at Dialpad when nil.
	Enabled *bool `json:"enabled,omitempty"`
	// GroupCallsOnly limits the events to group calls.
	GroupCallsOnly bool `json:"group_calls_only,omitempty"`
	// TargetID and TargetType scope the events to one target's calls; set
	// both or neither. TargetType is one of the TargetType... constants.
	TargetID   int64  `json:"target_id,omitempty"`
	TargetType string `json:"target_type,omitempty"`
}

// UpdateCallSubscriptionRequest is the body of CallSubscriptions.Update
// (UpdateCallEventSubscription). Nil fields are left unchanged.
type UpdateCallSubscriptionRequest struct {
	// EndpointID moves the subscription to another webhook.
	EndpointID *int64 `json:"endpoint_id,omitempty"`
	// CallStates, when not nil, replaces the states (at least one).
	CallStates     []string `json:"call_states,omitempty"`
	Enabled        *bool    `json:"enabled,omitempty"`
	GroupCallsOnly *bool    `json:"group_calls_only,omitempty"`
	// TargetID and TargetType change the scope; set both or neither.
	TargetID   *int64  `json:"target_id,omitempty"`
	TargetType *string `json:"target_type,omitempty"`
}

// ListCallSubscriptionsOptions filters CallSubscriptions.List.
type ListCallSubscriptionsOptions struct {
	// TargetID and TargetType list only that target's subscriptions; set
	// both or neither.
	TargetID   int64
	TargetType string
}

// CallSubscriptionsService manages call event subscriptions
// (/api/v2/subscriptions/call). Get it from Client.CallSubscriptions.
type CallSubscriptionsService struct{ c *Client }

// CallSubscriptions returns the service managing call event subscriptions:
// which call states are sent to which webhook.
func (c *Client) CallSubscriptions() *CallSubscriptionsService {
	return &CallSubscriptionsService{c: c}
}

// Create subscribes a webhook to call events. The request is validated
// first: a positive endpoint_id, at least one known call state, and target
// id and type together with a known type; bad input gets an error matching
// telephony.ErrInvalidRequest and nothing is sent. Recording URLs in the
// events need the API key's recordings_export scope.
//
// API: POST /api/v2/subscriptions/call
func (s *CallSubscriptionsService) Create(ctx context.Context, req CreateCallSubscriptionRequest) (*CallSubscription, error) {
	const op = "POST /api/v2/subscriptions/call"
	if req.EndpointID <= 0 {
		return nil, invalid(op, "endpoint_id is required: the id of the webhook the events go to")
	}
	if err := validateCallStates(req.CallStates); err != nil {
		return nil, invalid(op, "%v", err)
	}
	if err := validateScope(req.TargetID != 0, req.TargetID, req.TargetType != "", req.TargetType); err != nil {
		return nil, invalid(op, "%v", err)
	}
	var out CallSubscription
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPost, Path: "/api/v2/subscriptions/call", Body: req, Out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns the subscription with the given id, or an error matching
// telephony.ErrNotFound.
//
// API: GET /api/v2/subscriptions/call/{id}
func (s *CallSubscriptionsService) Get(ctx context.Context, id int64) (*CallSubscription, error) {
	const op = "GET /api/v2/subscriptions/call/{id}"
	if id <= 0 {
		return nil, invalid(op, "subscription id %d must be positive", id)
	}
	var out CallSubscription
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodGet, Path: subscriptionPath(id),
		Route: "/api/v2/subscriptions/call/{id}", Out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// List iterates over the company's call event subscriptions (or one
// target's), following Dialpad's cursor. Breaking out of the loop stops
// fetching; an error is yielded once and ends the sequence.
//
// API: GET /api/v2/subscriptions/call
func (s *CallSubscriptionsService) List(ctx context.Context, opts *ListCallSubscriptionsOptions) iter.Seq2[CallSubscription, error] {
	const op = "GET /api/v2/subscriptions/call"
	q := url.Values{}
	if opts != nil {
		if err := validateScope(opts.TargetID != 0, opts.TargetID, opts.TargetType != "", opts.TargetType); err != nil {
			err = invalid(op, "%v", err)
			return func(yield func(CallSubscription, error) bool) { yield(CallSubscription{}, err) }
		}
		if opts.TargetID != 0 {
			q.Set("target_id", strconv.FormatInt(opts.TargetID, 10))
			q.Set("target_type", opts.TargetType)
		}
	}
	return listCursor[CallSubscription](ctx, s.c, "/api/v2/subscriptions/call", q)
}

// Update changes the fields of req that are not nil (with none set it
// fails with telephony.ErrInvalidRequest and sends nothing). Setting
// Enabled to false pauses the events; true resumes them.
//
// API: PATCH /api/v2/subscriptions/call/{id}
func (s *CallSubscriptionsService) Update(ctx context.Context, id int64, req UpdateCallSubscriptionRequest) (*CallSubscription, error) {
	const op = "PATCH /api/v2/subscriptions/call/{id}"
	if id <= 0 {
		return nil, invalid(op, "subscription id %d must be positive", id)
	}
	if req.EndpointID == nil && req.CallStates == nil && req.Enabled == nil && req.GroupCallsOnly == nil &&
		req.TargetID == nil && req.TargetType == nil {
		return nil, invalid(op, "nothing to update: every field is nil")
	}
	if req.EndpointID != nil && *req.EndpointID <= 0 {
		return nil, invalid(op, "endpoint_id %d must be positive", *req.EndpointID)
	}
	if req.CallStates != nil {
		if err := validateCallStates(req.CallStates); err != nil {
			return nil, invalid(op, "%v", err)
		}
	}
	var tid int64
	var ttype string
	if req.TargetID != nil {
		tid = *req.TargetID
	}
	if req.TargetType != nil {
		ttype = *req.TargetType
	}
	if err := validateScope(req.TargetID != nil, tid, req.TargetType != nil, ttype); err != nil {
		return nil, invalid(op, "%v", err)
	}
	var out CallSubscription
	if _, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodPatch, Path: subscriptionPath(id),
		Route: "/api/v2/subscriptions/call/{id}", Body: req, Out: &out, Idempotent: true}); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes the subscription; its webhook stays. A 404 on a retry
// counts as success.
//
// API: DELETE /api/v2/subscriptions/call/{id}
func (s *CallSubscriptionsService) Delete(ctx context.Context, id int64) error {
	const op = "DELETE /api/v2/subscriptions/call/{id}"
	if id <= 0 {
		return invalid(op, "subscription id %d must be positive", id)
	}
	_, err := s.c.t.Do(ctx, &transport.Request{Method: http.MethodDelete, Path: subscriptionPath(id), Route: "/api/v2/subscriptions/call/{id}"})
	return deletedOnRetry(err)
}

func subscriptionPath(id int64) string {
	return "/api/v2/subscriptions/call/" + strconv.FormatInt(id, 10)
}

func validateCallStates(states []string) error {
	if len(states) == 0 {
		return errors.New("call_states is empty: name the states to receive (CallStateAll for every state)")
	}
	for _, st := range states {
		if !callStates[st] {
			return fmt.Errorf("call state %q is not one of Dialpad's call states", st)
		}
	}
	return nil
}

// validateScope checks a target filter: id and type together, a positive
// id and a known type.
func validateScope(hasID bool, id int64, hasType bool, typ string) error {
	switch {
	case hasID != hasType:
		return errors.New("target_id and target_type go together: set both or neither")
	case !hasID:
		return nil
	case id <= 0:
		return fmt.Errorf("target_id %d must be positive", id)
	case !defaultTargetTypes[typ]:
		return fmt.Errorf("target_type %q is not one of Dialpad's target types (user, office, callcenter, department, ...)", typ)
	}
	return nil
}
