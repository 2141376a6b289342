package telephony

import (
	"context"
	"net/http"
	"time"
)

// ServerDeadlineMargin is how long before the server's write deadline a
// handler served by NewServer sees its request context end.
const ServerDeadlineMargin = 500 * time.Millisecond

// NewServer returns an *http.Server for Switchboard's inbound handlers with
// the timeouts a public endpoint needs: slow or stalled clients are cut off
// instead of holding connections open. Dialpad waits at most 5 s for a
// routing answer, so the write timeout stays close to that.
//
// Each request's context ends ServerDeadlineMargin before the write
// deadline (read from the server's WriteTimeout when the request starts),
// so work bound to it — a wait for a rate limit before a call is placed,
// for example — stops while an answer can still be written: a call is
// never placed after the client was already cut off, which a retrying
// client would turn into a second call.
func NewServer(addr string, h http.Handler) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      6 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wt := srv.WriteTimeout; wt > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), max(wt-ServerDeadlineMargin, wt/2))
			defer cancel()
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	})
	return srv
}
