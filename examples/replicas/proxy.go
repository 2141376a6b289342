package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// meter sits between the replicas and one simulator and counts the
// requests and the 429s the provider answered. (The simulators count
// requests, but only aircalltest counts its 429s.)
type meter struct {
	srv *httptest.Server

	mu                  sync.Mutex
	requests, throttled int
}

func newMeter(target string) *meter {
	u, err := url.Parse(target)
	if err != nil {
		panic(err) // a simulator's own URL
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 10 * time.Second}
	// A replica that gave up on a request (its deadline) is no news.
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	m := &meter{}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		proxy.ServeHTTP(sw, r)
		m.count(sw.status)
	}))
	return m
}

func (m *meter) URL() string { return m.srv.URL }
func (m *meter) Close()      { m.srv.Close() }

func (m *meter) count(status int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests++
	if status == http.StatusTooManyRequests {
		m.throttled++
	}
}

// counts returns the requests and the 429s.
func (m *meter) counts() (requests, throttled int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests, m.throttled
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// replicaHeader names the replica (0-based) the balancer sent a request to.
const replicaHeader = "X-Replica"

// balancer is the load balancer in front of the replicas: round robin over
// the ones up. A replica that refuses connections is marked down and the
// request goes to the next one (nothing reached it, so this is safe for a
// POST); any other failure is answered 502, as a load balancer would.
type balancer struct {
	srv      *httptest.Server
	backends []string
	down     []atomic.Bool
	next     atomic.Uint64
	hc       *http.Client
}

func newBalancer(backends []string) *balancer {
	b := &balancer{backends: backends, down: make([]atomic.Bool, len(backends)),
		hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 10 * time.Second}}}
	b.srv = httptest.NewServer(b)
	return b
}

func (b *balancer) URL() string { return b.srv.URL }
func (b *balancer) Close()      { b.srv.Close() }

// markDown takes replica i out of the rotation (its health check failed).
func (b *balancer) markDown(i int) { b.down[i].Store(true) }

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	n := len(b.backends)
	start := int(b.next.Add(1) % uint64(n))
	for i := range n {
		k := (start + i) % n
		if b.down[k].Load() {
			continue
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, b.backends[k]+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := b.hc.Do(req)
		if errors.Is(err, syscall.ECONNREFUSED) {
			b.markDown(k)
			continue
		}
		w.Header().Set(replicaHeader, strconv.Itoa(k))
		if err != nil {
			// Sent, but no answer: the replica died with it, say.
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		for h, vs := range resp.Header {
			w.Header()[h] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		_ = resp.Body.Close()
		return
	}
	http.Error(w, "no replica is up", http.StatusServiceUnavailable)
}

// ledger records which replica processed which event (POST /processed),
// how many events the stalled replica sits on (POST /holding) and which
// replica routes which Aircall call (POST /routing).
type ledger struct {
	srv *httptest.Server

	mu        sync.Mutex
	processed map[string]int // event key -> times processed
	byReplica [numReplicas]int
	holding   int
	routing   map[string][numReplicas]bool // call -> the replicas whose RouteFunc ran for it
}

func newLedger() *ledger {
	l := &ledger{processed: map[string]int{}, routing: map[string][numReplicas]bool{}}
	l.srv = httptest.NewServer(l)
	return l
}

func (l *ledger) URL() string { return l.srv.URL }
func (l *ledger) Close()      { l.srv.Close() }

func (l *ledger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	replica, err := strconv.Atoi(q.Get("replica"))
	key := q.Get("key")
	if r.Method != http.MethodPost || err != nil || replica < 0 || replica >= numReplicas || key == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	switch r.URL.Path {
	case "/processed":
		l.processed[key]++
		l.byReplica[replica]++
	case "/holding":
		l.holding++
	case "/routing":
		r := l.routing[key]
		r[replica] = true
		l.routing[key] = r
	}
	l.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// routedBy reports which replicas' RouteFunc ran for call key.
func (l *ledger) routedBy(key string) [numReplicas]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.routing[key]
}

// held returns how many events the stalled replica has started and sits on.
func (l *ledger) held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holding
}

// snapshot returns a copy of the processed counts and the per-replica
// totals.
func (l *ledger) snapshot() (map[string]int, [numReplicas]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string]int, len(l.processed))
	for k, v := range l.processed {
		m[k] = v
	}
	return m, l.byReplica
}
