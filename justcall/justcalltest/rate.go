package justcalltest

import (
	"net/http"
	"strconv"
	"time"
)

// rateState is JustCall's two fixed windows: a burst window of a minute and
// an hourly one, each starting at its first request.
type rateState struct {
	perMinute, perHour  int
	minStart, hourStart time.Time
	minUsed, hourUsed   int
}

// SetRateLimit sets the account's limits (JustCall's Team plan is 30 per
// minute and 1,800 per hour) and starts new windows. A request beyond
// either is answered 429; every answer carries the X-Rate-Limit-Burst-* and
// X-Rate-Limit-* headers, with resets in UTC epoch seconds.
// SetRateLimits(RateLimit{PerMinute: perMinute, PerHour: perHour}), the
// form the three simulators share, does the same.
func (s *Server) SetRateLimit(perMinute, perHour int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rl = rateState{perMinute: perMinute, perHour: perHour}
}

// allow spends one request of both windows and writes the headers. It
// reports false when a window is exhausted.
func (s *Server) allow(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	rl := &s.rl
	if rl.minStart.IsZero() || !now.Before(rl.minStart.Add(time.Minute)) {
		rl.minStart, rl.minUsed = now, 0
	}
	if rl.hourStart.IsZero() || !now.Before(rl.hourStart.Add(time.Hour)) {
		rl.hourStart, rl.hourUsed = now, 0
	}
	ok := (rl.perMinute <= 0 || rl.minUsed < rl.perMinute) && (rl.perHour <= 0 || rl.hourUsed < rl.perHour)
	if ok {
		rl.minUsed++
		rl.hourUsed++
	}
	h := w.Header()
	set := func(prefix string, limit, used int, reset time.Time) {
		if limit <= 0 {
			return
		}
		h.Set(prefix+"Limit", strconv.Itoa(limit))
		h.Set(prefix+"Remaining", strconv.Itoa(max(limit-used, 0)))
		// Round up: a reset in the past would let the client go early.
		h.Set(prefix+"Reset", strconv.FormatInt((reset.UnixNano()+int64(time.Second)-1)/int64(time.Second), 10))
	}
	set("X-Rate-Limit-Burst-", rl.perMinute, rl.minUsed, rl.minStart.Add(time.Minute))
	set("X-Rate-Limit-", rl.perHour, rl.hourUsed, rl.hourStart.Add(time.Hour))
	if !ok {
		s.uni.throttled++
		if s.uni.retryAfter != "" {
			h.Set("Retry-After", s.uni.retryAfter)
		}
	}
	return ok
}
