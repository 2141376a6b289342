package justcall

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecodeCallback: the callback decoder never panics, and what it
// accepts has a call id and one of the seed's six statuses.
func FuzzDecodeCallback(f *testing.F) {
	f.Add([]byte(`{"call_id":"call_8f3a2b1c","status":"ringing","duration":0,"timestamp":"2026-03-12 14:30:00"}`), "application/json")
	f.Add([]byte(`{"call_id":"call_8f3a2b1c","status":"completed","duration":185,"timestamp":"2026-03-12T14:30:00Z"}`), "application/json")
	f.Add([]byte(`{"call_id":42,"status":"no-answer","duration":"12.5","timestamp":1773325800,"agent_id":"42"}`), "application/json")
	f.Add([]byte(`call_id=call_1&status=busy&duration=3`), "application/x-www-form-urlencoded")
	f.Add([]byte(`{"call_id":"c","status":"failed","duration":-1}`), "application/json")
	f.Add([]byte(`{"call_id":"c","status":"in-progress","duration":1e300}`), "")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		ev, _, err := decodeCallback(body, contentType, time.Unix(0, 0))
		if err != nil {
			return
		}
		assert.NotEmpty(t, ev.CallID, "accepted a callback without call id")
		assert.Contains(t, slices.Collect(maps.Values(callbackStatuses)), ev.Status, "accepted status %q duration %v", ev.Status, ev.Duration)
		assert.GreaterOrEqual(t, ev.Duration, time.Duration(0), "accepted status %q duration %v", ev.Status, ev.Duration)
	})
}

// FuzzVerifyWebhook: the verifier never panics and accepts nothing but the
// signed envelope; a verified envelope then decodes without panicking.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(docBody), docSignature, docTimestamp)
	f.Add([]byte(`{"request_id":"r","webhook_url":"https://x/y?a=(b)","type":"call.answered","data":{"id":"1","call_info":{"direction":"Incoming"},"call_duration":{"total_duration":"9"}}}`), docSignature, "1711040902")
	f.Add([]byte(`{"webhook_url":1}`), "00", "")
	f.Add([]byte(`{"request_id":"r","webhook_url":"u","type":"call.completed","data":{"call_duration":12,"agent_id":"7"}}`), "", docTimestamp)
	f.Fuzz(func(t *testing.T, body []byte, sig, ts string) {
		h := http.Header{}
		h.Set(HeaderSignature, sig)
		h.Set(HeaderRequestTimestamp, ts)
		env, err := verify([]string{docSecret}, h, body, DefaultTolerance, docTime)
		if err == nil {
			assert.True(t, Signature(docSecret, env.WebhookURL, env.Type, ts) == sig || hexMAC(docSecret, pythonQuote(env.WebhookURL), env.Type, ts) == sig,
				"accepted a signature that is not the envelope's: %q", sig)
			_, _ = decodeEvent(env, ts)
		}
		// Whatever the signature, decoding a verified-shape envelope must
		// not panic either.
		var env2 envelope
		if json.Unmarshal(body, &env2) == nil {
			_, _ = decodeEvent(&env2, ts)
		}
	})
}

// FuzzDecodeCallDetails: the GET /v2.1/calls/{id} decoder never panics,
// and what it accepts has an id.
func FuzzDecodeCallDetails(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"id":178632100,"contact_number":"1681381XXXX","call_date":"2024-01-18","call_time":"14:34:13","call_info":{"direction":"Incoming","type":"answered"},"call_duration":{"total_duration":63}}}`))
	f.Add([]byte(`{"status":"success","data":[{"id":"178632100","agent_id":"42","duration":"17"}]}`))
	f.Add([]byte(`{"id":1,"call_info":"n/a","call_duration":[]}`))
	f.Add([]byte(`{"status":"success","data":null}`))
	f.Add([]byte(`{"status":"success","data":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, ok := decodeCallDetails(body)
		if ok {
			assert.NotEmpty(t, d.ID, "accepted a call without id")
		}
	})
}

// TestDecodeCallDetailsEnvelopes: the envelopes Get accepts, since the
// exact one is not documented.
func TestDecodeCallDetailsEnvelopes(t *testing.T) {
	for body, want := range map[string]CallDetails{
		`{"status":"success","data":{"id":178632100,"agent_id":"42","call_info":{"direction":"Incoming","type":"Missed"},"call_duration":{"total_duration":"63"}}}`: {ID: "178632100", AgentID: 42, Direction: "Incoming", Type: "Missed", Duration: 63},
		`{"data":[{"id":"7","direction":"Outgoing","duration":12}]}`:            {ID: "7", Direction: "Outgoing", Duration: 12},
		`{"id":9,"call_info":"odd","call_duration":null,"duration":"00:00:12"}`: {ID: "9"},
	} {
		d, ok := decodeCallDetails([]byte(body))
		require.True(t, ok, "%s: refused", body)
		d.Raw = nil
		assert.Equal(t, want, *d, body)
	}
	for _, body := range []string{`{"status":"success","data":{}}`, `{"data":[{"id":1},{"id":2}]}`, `[]`, `"x"`, `{"data":"1"}`} {
		_, ok := decodeCallDetails([]byte(body))
		assert.False(t, ok, "%s: accepted", body)
	}
}
