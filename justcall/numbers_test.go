package justcall_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

// TestWebhookNumbersBecomeE164: JustCall writes contact_number without the
// '+' (1681381XXXX); CallEvent.From and To are E.164 all the same, while
// the provider's own Calls.Get keeps JustCall's form.
func TestWebhookNumbersBecomeE164(t *testing.T) {
	sim := newSim(t)
	sim.SetPlainContactNumbers(true)
	c := newClient(t, sim)
	call, err := c.Calls.Make(t.Context(), justcall.MakeCallRequest{From: "+14155550001", To: "+16813812345"})
	require.NoError(t, err)
	got, err := c.Calls.Get(t.Context(), call.CallID)
	require.NoError(t, err)
	require.Equal(t, "16813812345", got.ContactNumber, "the simulator writes JustCall's form")

	wh, sink, url := zoneHandler(t, justcall.WebhookOptions{})
	code, err := sim.SendWebhook(url, "call.initiated", sim.CallObject(call.CallID))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	code, err = sim.SendWebhook(url, "call.incoming", map[string]any{
		"id": 9001, "contact_number": "447700900123", "justcall_number": "14155550001",
		"call_info": map[string]any{"direction": "Incoming"},
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, wh.Close(t.Context()))

	evs := sink.get()
	require.Len(t, evs, 2)
	byType := map[string]telephony.CallEvent{}
	for _, ev := range evs {
		byType[ev.Type] = ev
	}
	out := byType["call.initiated"]
	assert.Equal(t, []string{"+14155550001", "+16813812345"}, []string{out.From, out.To}, "outbound From, To")
	in := byType["call.incoming"]
	assert.Equal(t, []string{"+447700900123", "+14155550001"}, []string{in.From, in.To}, "inbound From, To")

	uk, _, err := telephony.ByCallerPrefix(map[string]telephony.Target{"+44": telephony.UserTarget("7")})(t.Context(),
		telephony.InboundCall{From: in.From})
	require.NoError(t, err)
	assert.Equal(t, "7", uk.ID, "a +44 prefix rule matches the caller")
}

// TestDialRefusesImpossibleNumbers: a number that is '+' and digits but no
// possible number of its country is refused before anything is sent.
func TestDialRefusesImpossibleNumbers(t *testing.T) {
	sim := newSim(t)
	tc := newClient(t, sim).Telephony()
	for _, to := range []string{"+12", "+1415555", "+99912345678"} {
		_, err := tc.Dial(t.Context(), telephony.CallRequest{From: "+14155550001", To: to})
		require.Error(t, err, to)
		assert.True(t, errors.Is(err, telephony.ErrInvalidRequest), "%s: %v", to, err)
	}
	assert.Zero(t, sim.Count(http.MethodPost, "/v2/calls/make"), "nothing was sent")

	call, err := tc.Dial(t.Context(), telephony.CallRequest{From: "+14155550001", To: "+16813812345"})
	require.NoError(t, err)
	assert.Equal(t, "+16813812345", call.To)
}
