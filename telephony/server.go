package telephony

import (
	"net/http"
	"time"
)

// NewServer returns an *http.Server for Switchboard's inbound handlers with
// the timeouts a public endpoint needs: slow or
// stalled clients are cut off instead of holding connections open. Dialpad
// waits at most 5 s for a routing answer, so the write timeout stays close
// to that.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      6 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
