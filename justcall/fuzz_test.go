package justcall

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"
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
		ev, err := decodeCallback(body, contentType, time.Unix(0, 0))
		if err != nil {
			return
		}
		if ev.CallID == "" {
			t.Fatal("accepted a callback without call id")
		}
		found := false
		for _, s := range callbackStatuses {
			found = found || s == ev.Status
		}
		if !found || ev.Duration < 0 {
			t.Fatalf("accepted status %q duration %v", ev.Status, ev.Duration)
		}
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
			if Signature(docSecret, env.WebhookURL, env.Type, ts) != sig && hexMAC(docSecret, pythonQuote(env.WebhookURL), env.Type, ts) != sig {
				t.Fatalf("accepted a signature that is not the envelope's: %q", sig)
			}
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
		if ok && d.ID == "" {
			t.Fatal("accepted a call without id")
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
		if !ok {
			t.Fatalf("%s: refused", body)
		}
		d.Raw = nil
		if !reflect.DeepEqual(*d, want) {
			t.Errorf("%s:\n got  %+v\n want %+v", body, *d, want)
		}
	}
	for _, body := range []string{`{"status":"success","data":{}}`, `{"data":[{"id":1},{"id":2}]}`, `[]`, `"x"`, `{"data":"1"}`} {
		if _, ok := decodeCallDetails([]byte(body)); ok {
			t.Errorf("%s: accepted", body)
		}
	}
}
