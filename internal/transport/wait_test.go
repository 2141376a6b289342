package transport

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// R5: Retry-After in every form the RFC allows, clamped to the maximum.
func TestR5RetryAfterTable(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	const cap = 30 * time.Second
	tests := []struct {
		name, in string
		ok       bool
		want     time.Duration
	}{
		{"seconds", "2", true, 2 * time.Second},
		{"one hour", "3600", true, cap},
		{"IMF-fixdate +90s", now.Add(90 * time.Second).Format(http.TimeFormat), true, cap},
		{"RFC 850 +10s", now.Add(10 * time.Second).Format(time.RFC850), true, 10 * time.Second},
		{"asctime +10s", now.Add(10 * time.Second).Format(time.ANSIC), true, 10 * time.Second},
		{"negative", "-5", false, 0},
		{"fraction", "1.5", false, 0},
		{"garbage", "soon", false, 0},
		{"lenient date", "Wed, 01 OCt 7000 0:00:00 AAA", false, 0},
		{"past date", now.Add(-time.Hour).Format(http.TimeFormat), true, 0},
	}
	for _, tt := range tests {
		d, ok := ParseRetryAfter(tt.in, now)
		got := ClampWait(d, cap)
		t.Logf("R5 %-17s %-32q -> wait=%v ok=%v (not ok: jittered backoff instead)", tt.name, tt.in, got, ok)
		assert.Equal(t, tt.ok, ok, "%s: got %v,%v want %v,%v", tt.name, got, ok, tt.want, tt.ok)
		assert.Equal(t, tt.want, got, "%s: got %v,%v want %v,%v", tt.name, got, ok, tt.want, tt.ok)
	}
}

func TestParseReset(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for in, want := range map[string]time.Duration{
		"1800000030":    30 * time.Second, // Unix seconds
		"1800000030000": 30 * time.Second, // Unix milliseconds
		"12":            12 * time.Second, // seconds from now
		"1700000000":    0,                // in the past
		now.Add(5 * time.Second).UTC().Format(time.RFC3339): 5 * time.Second,
	} {
		got, ok := ParseReset(in, now)
		assert.True(t, ok, "ParseReset(%q) = %v,%v want %v", in, got, ok, want)
		assert.Equal(t, want, got, "ParseReset(%q) = %v,%v want %v", in, got, ok, want)
	}
	for _, bad := range []string{"", "-1", "NaN", "x", "1e300"} {
		_, ok := ParseReset(bad, now)
		assert.False(t, ok, "ParseReset(%q) accepted", bad)
	}
}

// FuzzRetryAfterWait: whatever a server sends, the wait used lies in
// [0, cap].
func FuzzRetryAfterWait(f *testing.F) {
	for _, s := range []string{"2", "3600", "-5", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Wed, 01 OCt 7000 0:00:00 AAA",
		"99999999999999999999", "1800000030", "1800000030000", "2026-11-21T12:00:00Z"} {
		f.Add(s)
	}
	const cap = 30 * time.Second
	now := time.Now()
	f.Fuzz(func(t *testing.T, v string) {
		for _, parse := range []func(string, time.Time) (time.Duration, bool){ParseRetryAfter, ParseReset} {
			d, _ := parse(v, now)
			w := ClampWait(d, cap)
			require.GreaterOrEqual(t, w, time.Duration(0), "wait %v for %q outside [0, %v]", w, v, cap)
			require.LessOrEqual(t, w, cap, "wait %v for %q outside [0, %v]", w, v, cap)
		}
	})
}
