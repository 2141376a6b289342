package aircall_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

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
			if !errors.Is(err, telephony.ErrInvalidSignature) && !errors.Is(err, telephony.ErrInvalidRequest) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if ev.Token != "tok" || ev.Event == "" {
			t.Fatalf("accepted %+v", ev)
		}
		if !ev.IsCall() {
			return
		}
		call, err := ev.Call()
		if err != nil {
			return
		}
		ce := ev.CallEvent(call)
		if id, err := strconv.ParseInt(ce.CallID, 10, 64); err != nil || id <= 0 || ce.Provider != telephony.ProviderAircall {
			t.Fatalf("event %+v", ce)
		}
	})
}

func FuzzNumberE164(f *testing.F) {
	for _, s := range []string{"+33 1 76 36 06 95", "+1 (415) 555-0100", "anonymous", "", "+", "++1", "+0 12", "0033 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, digits string) {
		got := aircall.Number{Digits: digits}.E164()
		if got != strings.TrimSpace(digits) && telephony.ValidateE164(got) != nil {
			t.Fatalf("E164(%q) = %q: changed but not E.164", digits, got)
		}
	})
}

func TestParseEventRejectsWrongToken(t *testing.T) {
	for _, body := range []string{eventSeeds[0], strings.Replace(eventSeeds[0], `"token":"tok"`, `"token":"TOK"`, 1), `{"event":"call.created"}`} {
		_, err := aircall.ParseEvent([]byte(body), "other")
		if !errors.Is(err, telephony.ErrInvalidSignature) {
			t.Errorf("err = %v, want ErrInvalidSignature", err)
		}
	}
	ev, err := aircall.ParseEvent([]byte(eventSeeds[1]), "tok")
	if err != nil || ev.Timestamp != 1585001060 {
		t.Fatalf("string timestamp: %+v %v", ev, err)
	}
	call, err := ev.Call()
	if err != nil {
		t.Fatalf("string call id: %v", err)
	}
	ce := ev.CallEvent(call)
	if ce.Status != telephony.StatusCompleted || ce.AgentID != "2048" || ce.Duration.Seconds() != 59 {
		t.Errorf("event %+v", ce)
	}
}
