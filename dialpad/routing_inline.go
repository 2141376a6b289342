package dialpad

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/internal/webhook"
	"github.com/switchboard-go/switchboard/telephony"
)

// serveInline calls the RouteFunc in the request's goroutine — no
// goroutine handoff on the common path — and keeps the answer inside the
// budget with a watchdog: when ctx ends first (the budget is spent, or the
// client left), the watchdog writes the fallback answer, complete
// (Content-Length) and flushed, with "Connection: close" on HTTP/1 so that
// no other request waits on a connection whose handler is still inside a
// late RouteFunc. Whichever of the two answers first wins; the other does
// nothing, and serveInline does not return while the watchdog is writing
// or reporting, so w is never used after ServeHTTP returns. It is used
// only when w can flush; otherwise the RouteFunc runs in its own goroutine
// (decide).
func (h *RoutingHandler) serveInline(ctx context.Context, w http.ResponseWriter, f http.Flusher, r *http.Request,
	call telephony.InboundCall, start, began time.Time) rtDone {
	if err := ctx.Err(); err != nil { // the body took the whole budget: no race with a watchdog
		return h.answer(w, r, call, rtOutcome{cause: FallbackTimeout, err: err})
	}
	wd := &rtWatchdog{h: h, ctx: ctx, w: w, f: f, r: r, http1: r.ProtoMajor == 1, call: call, start: start, began: began}
	stop := context.AfterFunc(ctx, wd.fire)
	out := h.decideInline(ctx, call)
	if err := ctx.Err(); err != nil && out.cause == "" {
		// Past the budget: the fallback, as if the watchdog had answered.
		out = rtOutcome{cause: FallbackTimeout, err: err}
	}
	stop()
	wd.mu.Lock()
	late, d := wd.answered, wd.done
	wd.answered = true
	wd.mu.Unlock()
	if late {
		return d
	}
	return h.answer(w, r, call, out)
}

// rtWatchdog answers for a RouteFunc that is still running when its
// context ends (serveInline).
type rtWatchdog struct {
	h     *RoutingHandler
	ctx   context.Context
	w     http.ResponseWriter
	f     http.Flusher
	r     *http.Request
	http1 bool
	call  telephony.InboundCall
	start time.Time // the request's arrival (h.now), for the error window
	began time.Time // ServeHTTP's start, for the Observer's latency

	mu       sync.Mutex
	answered bool   // an answer was written, or is being written by serveInline
	done     rtDone // what fire answered
}

// fire answers the fallback. Everything is counted (ErrorsLastHour
// included) and reported to OnError and the Observer while the answer is
// written but not yet flushed, as answer and ServeHTTP do it before the
// handler returns: whoever reads the answer sees it in Stats and the logs.
func (wd *rtWatchdog) fire() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.answered {
		return
	}
	wd.answered = true
	h, ctx, err := wd.h, wd.r.Context(), wd.ctx.Err()
	h.log.WarnContext(ctx, "dialpad: routing answered the fallback target",
		"call_id", wd.call.CallID, "cause", FallbackTimeout, "error", rtErrString(err))
	hdr := wd.w.Header()
	hdr["Content-Type"], hdr["Cache-Control"] = rtJSONType, rtNoStore
	hdr.Set("Content-Length", strconv.Itoa(len(h.fallback)))
	if wd.http1 {
		hdr.Set("Connection", "close")
	}
	wd.w.WriteHeader(http.StatusOK)
	_, _ = wd.w.Write(h.fallback)
	h.reportFallback(ctx, wd.call, rtOutcome{cause: FallbackTimeout, err: err})
	// What Dialpad counts as a routing error: a 200 too late.
	if at := h.now(); at.Sub(wd.start) >= rtDialpadDeadline {
		h.errWindow.add(at)
	}
	h.m.Answer(ctx, wd.began, webhook.ResultFallback, "", FallbackTimeout, http.StatusOK, wd.call.CallID, err)
	wd.f.Flush()
	wd.done = rtDone{status: http.StatusOK, result: webhook.ResultFallback, decision: FallbackTimeout,
		callID: wd.call.CallID, err: err, counted: true}
}

// decideInline is decide without a goroutine: serveInline's watchdog
// answers when the RouteFunc is late.
func (h *RoutingHandler) decideInline(ctx context.Context, call telephony.InboundCall) rtOutcome {
	if err := ctx.Err(); err != nil { // the body took the whole budget
		return rtOutcome{cause: FallbackTimeout, err: err}
	}
	h.mu.RLock()
	if h.closed {
		h.mu.RUnlock()
		return rtOutcome{cause: FallbackUnavailable, err: errors.New("routing handler closed")}
	}
	if h.running.Add(1) > h.maxInFlight {
		h.running.Add(-1)
		h.mu.RUnlock()
		return rtOutcome{cause: FallbackUnavailable, err: errors.New("MaxInFlight RouteFunc calls still running")}
	}
	h.wg.Add(1)
	h.mu.RUnlock()
	defer h.wg.Done()
	defer h.running.Add(-1)
	return h.run(ctx, call)
}
