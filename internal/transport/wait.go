package transport

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After value: delta-seconds or any of the
// three HTTP-date forms (RFC 9110 §10.2.3). A date in the past is a zero
// wait. Negative, fractional or unparseable values report ok=false so that
// the caller falls back to its own backoff.
func ParseRetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		return secondsToDuration(n), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// ParseReset reads a rate-limit reset header. Providers disagree on its
// meaning, so the value decides: a number above 1e12 is Unix milliseconds,
// above 1e9 Unix seconds, anything smaller seconds from now; an HTTP-date or
// RFC 3339 time is a point in time. The result is the wait from now (zero
// for a time in the past).
func ParseReset(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return 0, false
		}
		var at time.Time
		switch {
		case f > 1e15:
			return 0, false
		case f > 1e12:
			at = time.UnixMilli(int64(f))
		case f > 1e9:
			sec, frac := math.Modf(f)
			at = time.Unix(int64(sec), int64(frac*1e9))
		default:
			return time.Duration(f * float64(time.Second)), true
		}
		if d := at.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		t, err = time.Parse(time.RFC3339, v)
		if err != nil {
			return 0, false
		}
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// ClampWait bounds a server-requested wait to [0, max].
func ClampWait(d, max time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	if d > max {
		return max
	}
	return d
}

// Backoff returns the full-jitter exponential wait before retry n (0-based):
// uniform in [0, min(max, base*2^n)].
func Backoff(base, max time.Duration, n int) time.Duration {
	if base <= 0 {
		return 0
	}
	ceiling := max
	if n < 62 {
		if c := base << uint(n); c > 0 && c < max {
			ceiling = c
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func secondsToDuration(n int64) time.Duration {
	if n > int64(math.MaxInt64/time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(n) * time.Second
}
