package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Each provider's simulated call reports its statuses in order and ends in
// a final status; the program prints them.
func TestClickToCallEachProvider(t *testing.T) {
	for _, k := range []string{"JUSTCALL_API_KEY", "DIALPAD_API_KEY", "AIRCALL_API_ID"} {
		t.Setenv(k, "") // always the simulators
	}
	want := map[string][]string{
		"justcall": {"ringing callback", "in-progress callback", "completed callback"},
		"dialpad":  {"ringing calling", "ringing ringing", "in-progress connected", "completed hangup"},
		// call.hungup and call.ended both say completed, and Aircall may
		// deliver them in either order: the first one ends the program.
		"aircall": {"initiated call.created", "in-progress call.answered", "completed call."},
	}
	for _, p := range []string{"justcall", "dialpad", "aircall"} {
		t.Run(p, func(t *testing.T) {
			var out bytes.Buffer
			start := time.Now()
			evs, err := run(t.Context(), config{Provider: p, Timeout: 10 * time.Second}, &out)
			took := time.Since(start)
			t.Logf("\n%s", out.String())
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(want[p]) {
				t.Fatalf("%d events, want %d: %+v", len(evs), len(want[p]), evs)
			}
			for i, ev := range evs {
				got := string(ev.Status) + " " + ev.Type
				if !strings.HasPrefix(got, want[p][i]) {
					t.Errorf("event %d = %q, want %q", i, got, want[p][i])
				}
				if ev.Provider != p || ev.CallID == "" || ev.CallID != evs[0].CallID {
					t.Errorf("event %d: provider %q call %q", i, ev.Provider, ev.CallID)
				}
			}
			last := evs[len(evs)-1]
			if !last.Status.Final() || last.Status != telephony.StatusCompleted {
				t.Errorf("last status %q, want completed", last.Status)
			}
			if !strings.Contains(out.String(), "ended: completed") {
				t.Errorf("output lacks the end line")
			}
			t.Logf("%s: %d events in %v", p, len(evs), took.Round(time.Millisecond))
		})
	}
}

func TestClickToCallUnknownProvider(t *testing.T) {
	if _, err := run(t.Context(), config{Provider: "skype"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "unknown provider") {
		t.Fatalf("err = %v", err)
	}
}
