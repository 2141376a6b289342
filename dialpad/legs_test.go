package dialpad_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// legsSink records the Dialpad events behind the portable ones.
type legsSink struct {
	mu       sync.Mutex
	evs      []dialpad.CallEvent
	mismatch int // events whose context held another call's event
}

func (s *legsSink) fn(ctx context.Context, ev telephony.CallEvent) error {
	raw, ok := dialpad.CallEventFromContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok || strconv.FormatInt(raw.CallID, 10) != ev.CallID {
		s.mismatch++
		return nil
	}
	s.evs = append(s.evs, *raw)
	return nil
}

// find returns the event of call id in state, or nil.
func (s *legsSink) find(id int64, state string) *dialpad.CallEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.evs {
		if s.evs[i].CallID == id && s.evs[i].State == state {
			return &s.evs[i]
		}
	}
	return nil
}

// legsSetup subscribes a WebhookHandler recording into a legsSink to sim.
func legsSetup(t *testing.T, sim *dialpadtest.Server) (*dialpad.WebhookHandler, *legsSink) {
	t.Helper()
	sink := &legsSink{}
	h, err := dialpad.NewWebhookHandler(sink.fn, dialpad.WebhookOptions{Secret: testSecret})
	require.NoError(t, err)
	wh := h
	srv := httptest.NewServer(wh)
	t.Cleanup(srv.Close)
	sim.AddWebhook(srv.URL, testSecret)
	return wh, sink
}

// TestCallEventsJoinOperatorLegs: an agent's leg of an inbound call is a
// call of its own; its events carry the customer's call in
// entry_point_call_id and master_call_id, the customer's call carries the
// leg in operator_call_id, and custom_data, contact and is_transferred come
// along. They reach the EventFunc through CallEventFromContext, with ids
// as numbers or as strings.
func TestCallEventsJoinOperatorLegs(t *testing.T) {
	for _, stringIDs := range []bool{false, true} {
		c, sim := newTestClient(t)
		sim.SetStringIDs(stringIDs)
		agents := sim.SeedUsers(2)
		wh, sink := legsSetup(t, sim)

		call := sim.AddCall(dialpadtest.Call{Direction: "inbound", State: "ringing", ExternalNumber: "+14155550123",
			InternalNumber: "+14155550199", CustomData: "crm-42"})
		leg, err := sim.ConnectOperator(call.ID, agents[0].ID)
		require.NoError(t, err)
		_, err = c.Calls.Transfer(t.Context(), call.ID, dialpad.TransferRequest{
			To: dialpad.TransferDestination{TargetID: agents[1].ID, TargetType: "user"}})
		require.NoError(t, err)
		require.NoError(t, sim.SetCallState(call.ID, "hangup"))
		sim.FlushEvents()
		require.NoError(t, wh.Close(t.Context()))
		assert.Zero(t, sink.mismatch, "every EventFunc call finds its own Dialpad event")

		legUp := sink.find(leg.ID, "connected")
		require.NotNil(t, legUp, "stringIDs=%v: the leg's connected event", stringIDs)
		assert.True(t, legUp.IsOperatorLeg())
		assert.Equal(t, call.ID, legUp.EntryPointCallID, "leg: entry_point_call_id")
		assert.Equal(t, call.ID, legUp.MasterCallID, "leg: master_call_id")
		require.NotNil(t, legUp.Target)
		assert.Equal(t, []string{strconv.FormatInt(agents[0].ID, 10), "user"}, []string{legUp.Target.ID, legUp.Target.Type})
		assert.Equal(t, "crm-42", legUp.CustomData)
		require.NotNil(t, legUp.Contact)
		assert.Equal(t, "+14155550123", legUp.Contact.Phone)

		callUp := sink.find(call.ID, "connected")
		require.NotNil(t, callUp, "the customer call's connected event")
		assert.False(t, callUp.IsOperatorLeg())
		assert.Equal(t, leg.ID, callUp.OperatorCallID, "call: operator_call_id")
		assert.Equal(t, call.ID, callUp.MasterCallID)
		assert.False(t, callUp.IsTransferred)

		callDown := sink.find(call.ID, "hangup")
		require.NotNil(t, callDown)
		assert.True(t, callDown.IsTransferred, "call: is_transferred after the transfer")
		assert.NotNil(t, sink.find(leg.ID, "hangup"), "the leg hangs up with the call")
	}
}

// TestCallEventFromContextOutsideHandler: no event in another context.
func TestCallEventFromContextOutsideHandler(t *testing.T) {
	_, ok := dialpad.CallEventFromContext(t.Context())
	assert.False(t, ok)
}
