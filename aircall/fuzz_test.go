package aircall_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/telephony"
)

// Seeds: the envelope of reference/providers.md §3.5 around the call object
// of the tutorial (raw_digits, number.digits), and edge cases.
var eventSeeds = []string{
	`{"resource":"call","event":"call.created","timestamp":1585001000,"token":"tok","data":{"id":812,"direction":"inbound","status":"initial","raw_digits":"+33 6 12 34 56 78","number":{"id":1,"digits":"+33 1 76 36 06 95"},"user":null,"started_at":1585000999}}`,
	`{"resource":"call","event":"call.ended","timestamp":"1585001060","token":"tok","data":{"id":"812","direction":"outbound","status":"done","answered_at":1585001001,"ended_at":1585001060,"duration":59,"user":{"id":2048,"email":"john.doe@aircall.io","name":"John Doe"}}}`,
	`{"resource":"user","event":"user.created","timestamp":1,"token":"tok","data":{"id":2048}}`,
	`{"event":"call.hungup","token":"tok","data":{"id":5,"raw_digits":"anonymous"}}`,
	`{"token":"wrong","event":"call.created"}`,
	`{"token":"tok"}`,
	`[]`, `null`, ``,
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := aircall.ParseEvent(body, "tok")
		if err != nil {
			assert.True(t, errors.Is(err, telephony.ErrInvalidSignature) || errors.Is(err, telephony.ErrInvalidRequest),
				"untyped error %v", err)
			return
		}
		assert.Equal(t, "tok", ev.Token, "accepted %+v", ev)
		assert.NotEmpty(t, ev.Event, "accepted %+v", ev)
		if !ev.IsCall() {
			return
		}
		call, err := ev.Call()
		if err != nil {
			return
		}
		ce := ev.CallEvent(call)
		id, err := strconv.ParseInt(ce.CallID, 10, 64)
		assert.NoError(t, err, "event %+v", ce)
		assert.Positive(t, id, "event %+v", ce)
		assert.Equal(t, telephony.ProviderAircall, ce.Provider, "event %+v", ce)
	})
}

func FuzzNumberE164(f *testing.F) {
	for _, s := range []string{"+33 1 76 36 06 95", "+1 (415) 555-0100", "anonymous", "", "+", "++1", "+0 12", "0033 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, digits string) {
		got := aircall.Number{Digits: digits}.E164()
		if got != strings.TrimSpace(digits) {
			assert.NoError(t, telephony.ValidateE164(got), "E164(%q) = %q: changed but not E.164", digits, got)
		}
	})
}

func TestParseEventRejectsWrongToken(t *testing.T) {
	for _, body := range []string{eventSeeds[0], strings.Replace(eventSeeds[0], `"token":"tok"`, `"token":"TOK"`, 1), `{"event":"call.created"}`} {
		_, err := aircall.ParseEvent([]byte(body), "other")
		assert.ErrorIs(t, err, telephony.ErrInvalidSignature, "body %s", body)
	}
	ev, err := aircall.ParseEvent([]byte(eventSeeds[1]), "tok")
	require.NoError(t, err, "string timestamp")
	assert.Equal(t, int64(1585001060), ev.Timestamp, "string timestamp: %+v", ev)
	call, err := ev.Call()
	require.NoError(t, err, "string call id")
	ce := ev.CallEvent(call)
	assert.Equal(t, telephony.StatusCompleted, ce.Status, "event %+v", ce)
	assert.Equal(t, "2048", ce.AgentID, "event %+v", ce)
	assert.Equal(t, 59*time.Second, ce.Duration, "event %+v", ce)
}
