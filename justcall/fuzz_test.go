package justcall

import (
	"encoding/json"
	"net/http"
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
