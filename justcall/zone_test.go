package justcall_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
)

// zoneClock is a settable clock for WebhookOptions.Now.
type zoneClock struct{ at atomic.Int64 }

func (c *zoneClock) now() time.Time       { return time.Unix(0, c.at.Load()) }
func (c *zoneClock) set(t time.Time)      { c.at.Store(t.UnixNano()) }
func (c *zoneClock) add(d time.Duration)  { c.at.Add(int64(d)) }
func newZoneClock(t time.Time) *zoneClock { c := &zoneClock{}; c.set(t); return c }

// zoneHandler serves a webhook handler with opts on httptest; it is closed
// (its events drained) when the test ends.
func zoneHandler(t *testing.T, opts justcall.WebhookOptions) (*justcall.WebhookHandler, *recorder, string) {
	t.Helper()
	sink := &recorder{}
	opts.Secret = justcalltest.APISecret
	wh, err := justcall.NewWebhookHandler(sink.fn, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(wh)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = wh.Close(context.Background()) })
	return wh, sink, srv.URL + "/jc/webhooks"
}

func zoneCall(id int) map[string]any {
	return map[string]any{"id": id, "contact_number": "+14155550100", "justcall_number": "+14155550001",
		"call_info": map[string]any{"direction": "Incoming"}}
}

// TestWebhookTimestampInAnyWholeHourZone: JustCall's request timestamp
// names no zone. Written as the wall clock of any whole-hour zone from
// UTC-12 to UTC+14, a genuine delivery is accepted (it was refused with 401
// when read as UTC), and CallEvent.Time is the true instant.
func TestWebhookTimestampInAnyWholeHourZone(t *testing.T) {
	sim := newSim(t)
	wh, sink, url := zoneHandler(t, justcall.WebhookOptions{})
	zones := []*time.Location{time.UTC}
	for h := -12; h <= 14; h++ {
		zones = append(zones, time.FixedZone(fmt.Sprintf("UTC%+d", h), h*3600))
	}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny)
	}
	sent := time.Now()
	for i, z := range zones {
		sim.SetWebhookZone(z)
		code, err := sim.SendWebhook(url, "call.missed", zoneCall(1000+i))
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code, "timestamp written in %s", z)
	}
	require.NoError(t, wh.Close(t.Context()))
	evs := sink.get()
	assert.Len(t, evs, len(zones), "one event per zone")
	for _, ev := range evs {
		assert.WithinDuration(t, sent, ev.Time, 5*time.Second, "CallEvent.Time of call %s is the true instant", ev.CallID)
	}
	t.Logf("JustCall request timestamp in %d zones (UTC-12..UTC+14, New York): %d accepted", len(zones), len(evs))
}

// TestWebhookTimestampWindowPerZone: the offset taken out is a whole hour
// in [-12h, +14h]; what is left must be within the tolerance.
func TestWebhookTimestampWindowPerZone(t *testing.T) {
	sim := newSim(t)
	now := time.Now()
	clock := newZoneClock(now)
	_, sink, url := zoneHandler(t, justcall.WebhookOptions{Now: clock.now})
	for i, tc := range []struct {
		name string
		skew time.Duration // how far the written wall clock is from now
		want int
	}{
		{"UTC+3, 299 s late", 3*time.Hour - 299*time.Second, http.StatusOK},
		{"UTC+3, 301 s late", 3*time.Hour - 301*time.Second, http.StatusUnauthorized},
		{"UTC-7, 299 s early", -7*time.Hour + 299*time.Second, http.StatusOK},
		{"UTC-7, 301 s early", -7*time.Hour + 301*time.Second, http.StatusUnauthorized},
		{"UTC+5:30 (half hour)", 5*time.Hour + 30*time.Minute, http.StatusUnauthorized},
		{"UTC+14", 14 * time.Hour, http.StatusOK},
		{"UTC+15 (no such zone)", 15 * time.Hour, http.StatusUnauthorized},
		{"UTC-12", -12 * time.Hour, http.StatusOK},
		{"UTC-13 (no such zone)", -13 * time.Hour, http.StatusUnauthorized},
	} {
		code, err := sim.SendWebhookAs(url, "call.missed", fmt.Sprintf("01WINDOW%02d", i), now.Add(tc.skew), zoneCall(2000+i))
		require.NoError(t, err)
		assert.Equal(t, tc.want, code, tc.name)
	}
	assert.Eventually(t, func() bool { return len(sink.get()) == 4 }, 5*time.Second, 10*time.Millisecond, "the four accepted deliveries are handled")
}

// TestWebhookZoneToleranceKeepsReplaysOut: a captured delivery passes the
// widened window again an hour later, under a new request_id; the dedupe
// (which now outlives the window) drops it. With TimestampZone pinned the
// window is the plain 300 s and the replay is refused outright.
func TestWebhookZoneToleranceKeepsReplaysOut(t *testing.T) {
	sim := newSim(t)
	sim.SetWebhookZone(time.FixedZone("UTC+2", 2*3600))
	now := time.Now()

	clock := newZoneClock(now)
	wh, sink, url := zoneHandler(t, justcall.WebhookOptions{Now: clock.now})
	code, err := sim.SendWebhookAs(url, "call.completed", "01ORIGINAL", now, zoneCall(3000))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "the genuine delivery")
	clock.add(time.Hour)
	for i, rid := range []string{"01ORIGINAL", "01REPLAYED"} {
		code, err = sim.SendWebhookAs(url, "call.completed", rid, now, zoneCall(3000))
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code, "replay %d is acknowledged", i)
	}
	clock.add(13 * time.Hour) // 14 h after: it reads as written in UTC-12
	code, err = sim.SendWebhookAs(url, "call.completed", "01REPLAYED2", now, zoneCall(3000))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "replay 14 h later is acknowledged")
	clock.add(time.Hour) // 15 h after: UTC-13 is no zone
	code, err = sim.SendWebhookAs(url, "call.completed", "01REPLAYED3", now, zoneCall(3000))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code, "replay 15 h later is outside every zone's window")
	require.NoError(t, wh.Close(t.Context()))
	assert.Len(t, sink.get(), 1, "replays of one signed delivery are dropped")

	clock.set(now)
	pinned, pinnedSink, pinnedURL := zoneHandler(t, justcall.WebhookOptions{Now: clock.now, TimestampZone: time.FixedZone("UTC+2", 2*3600)})
	code, err = sim.SendWebhookAs(pinnedURL, "call.completed", "01PINNED", now, zoneCall(3001))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "pinned zone: the genuine delivery")
	clock.add(time.Hour)
	code, err = sim.SendWebhookAs(pinnedURL, "call.completed", "01PINNEDREPLAY", now, zoneCall(3001))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code, "pinned zone: an hour-old delivery is outside the window")
	require.NoError(t, pinned.Close(t.Context()))
	assert.Len(t, pinnedSink.get(), 1)
}

// TestWebhookTimestampZonePinned: an account in a half-hour zone sets
// TimestampZone, and then the plain UTC reading is refused.
func TestWebhookTimestampZonePinned(t *testing.T) {
	sim := newSim(t)
	india := time.FixedZone("IST", 5*3600+1800)
	sim.SetWebhookZone(india)
	wh, sink, url := zoneHandler(t, justcall.WebhookOptions{TimestampZone: india})
	code, err := sim.SendWebhook(url, "call.missed", zoneCall(4000))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code, "UTC+5:30 with TimestampZone set")

	sim.SetWebhookZone(nil)
	code, err = sim.SendWebhook(url, "call.missed", zoneCall(4001))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, code, "a UTC timestamp is 5h30 off the pinned zone")
	require.NoError(t, wh.Close(t.Context()))
	evs := sink.get()
	require.Len(t, evs, 1)
	assert.WithinDuration(t, time.Now(), evs[0].Time, 5*time.Second, "CallEvent.Time is the true instant")
}

// TestWebhookZonedTimestampGetsThePlainWindow: a timestamp that carries its
// zone (RFC 3339, Unix seconds) has no offset to guess: an hour off is
// refused.
func TestWebhookZonedTimestampGetsThePlainWindow(t *testing.T) {
	sim := newSim(t)
	wh, sink, url := zoneHandler(t, justcall.WebhookOptions{})
	now := time.Now()
	for i, tc := range []struct {
		ts   string
		want int
	}{
		{now.UTC().Format(time.RFC3339), http.StatusOK},
		{now.Add(time.Hour).UTC().Format(time.RFC3339), http.StatusUnauthorized},
		{strconv.FormatInt(now.Unix(), 10), http.StatusOK},
		{strconv.FormatInt(now.Add(-time.Hour).Unix(), 10), http.StatusUnauthorized},
	} {
		code, err := sim.SendWebhookRaw(url, "call.missed", fmt.Sprintf("01ZONED%02d", i), tc.ts, zoneCall(5000+i))
		require.NoError(t, err)
		assert.Equal(t, tc.want, code, "timestamp %s", tc.ts)
	}
	require.NoError(t, wh.Close(t.Context()))
	assert.Len(t, sink.get(), 2)
}
