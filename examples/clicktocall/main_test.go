package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
			require.NoError(t, err)
			require.Len(t, evs, len(want[p]), "%d events, want %d: %+v", len(evs), len(want[p]), evs)
			for i, ev := range evs {
				got := string(ev.Status) + " " + ev.Type
				assert.True(t, strings.HasPrefix(got, want[p][i]), "event %d = %q, want %q", i, got, want[p][i])
				assert.Equal(t, p, ev.Provider, "event %d: provider %q call %q", i, ev.Provider, ev.CallID)
				assert.NotEmpty(t, ev.CallID, "event %d: provider %q call %q", i, ev.Provider, ev.CallID)
				assert.Equal(t, evs[0].CallID, ev.CallID, "event %d: provider %q call %q", i, ev.Provider, ev.CallID)
			}
			last := evs[len(evs)-1]
			assert.True(t, last.Status.Final(), "last status %q, want completed", last.Status)
			assert.Equal(t, telephony.StatusCompleted, last.Status, "last status %q, want completed", last.Status)
			assert.Contains(t, out.String(), "ended: completed", "output lacks the end line")
			t.Logf("%s: %d events in %v", p, len(evs), took.Round(time.Millisecond))
		})
	}
}

func TestClickToCallUnknownProvider(t *testing.T) {
	_, err := run(t.Context(), config{Provider: "skype"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "unknown provider")
}
