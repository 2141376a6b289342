package benchmarks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-go/switchboard/internal/testenv"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/telephony"
)

// Side by side (issue 12): the library and its baseline measured in
// interleaved rounds. Each round runs testing.Benchmark for both sides back
// to back (the order alternates between rounds), so load drift on the
// shared machine hits both; the figure is the median of the per-round
// ratios library/baseline. Allocation counts are exact and printed as they
// are. SWITCHBOARD_ROUNDS sets the number of rounds (default 12); the
// duration of each benchmark is the usual -test.benchtime (default 1s).

func sideRounds() int {
	if n, err := strconv.Atoi(os.Getenv("SWITCHBOARD_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 12
}

// sideBySide runs lib and base in interleaved rounds and logs the median
// of the per-round ns/op ratios with the allocation counts. Beside wall
// time it measures the process's CPU time per operation (getrusage, user +
// system, over every run testing.Benchmark makes): on a machine shared with
// other jobs a benchmark's wall time also counts the time it waited for a
// CPU, its CPU time much less so. Both medians are printed; the CPU one
// counts the loopback server's work too, which is the same for both sides.
func sideBySide(t *testing.T, name string, lib, base func(b *testing.B)) (ratio, cpuRatio float64, libAllocs, baseAllocs int64) {
	t.Helper()
	rounds := sideRounds()
	ratios := make([]float64, 0, rounds)
	cpuRatios := make([]float64, 0, rounds)
	var libNs, baseNs []float64
	var libBytes, baseBytes int64
	for i := range rounds {
		var rl, rb testing.BenchmarkResult
		var cl, cb float64
		if i%2 == 0 {
			rl, cl = measure(lib)
			rb, cb = measure(base)
		} else {
			rb, cb = measure(base)
			rl, cl = measure(lib)
		}
		if rl.N == 0 || rb.N == 0 {
			t.Fatalf("%s: a benchmark failed (library N=%d, baseline N=%d)", name, rl.N, rb.N)
		}
		l, b := float64(rl.T.Nanoseconds())/float64(rl.N), float64(rb.T.Nanoseconds())/float64(rb.N)
		libNs, baseNs = append(libNs, l), append(baseNs, b)
		ratios = append(ratios, l/b)
		cpuRatios = append(cpuRatios, cl/cb)
		libAllocs, baseAllocs = rl.AllocsPerOp(), rb.AllocsPerOp()
		libBytes, baseBytes = rl.AllocedBytesPerOp(), rb.AllocedBytesPerOp()
	}
	ratio, cpuRatio = median(ratios), median(cpuRatios)
	t.Logf("%s: %d interleaved rounds: median ratio %.3fx wall (per round %s), %.3fx CPU time (per round %s); median ns/op library %.0f baseline %.0f; allocs/op library %d baseline %d; B/op library %d baseline %d",
		name, rounds, ratio, fmtRatios(ratios), cpuRatio, fmtRatios(cpuRatios), median(libNs), median(baseNs), libAllocs, baseAllocs, libBytes, baseBytes)
	return ratio, cpuRatio, libAllocs, baseAllocs
}

func fmtRatios(rs []float64) string {
	per := make([]string, len(rs))
	for i, r := range rs {
		per[i] = fmt.Sprintf("%.3f", r)
	}
	return "[" + strings.Join(per, " ") + "]"
}

// measure runs f under testing.Benchmark and returns its result and the
// process CPU time per operation over all the runs testing.Benchmark made.
func measure(f func(b *testing.B)) (testing.BenchmarkResult, float64) {
	ops := 0
	counted := func(b *testing.B) {
		f(b)
		ops += b.N // read after f: with b.Loop, b.N is the count of the loop that ran
	}
	before := cpuTime()
	r := testing.Benchmark(counted)
	used := cpuTime() - before
	if ops == 0 {
		return r, 0
	}
	return r, float64(used.Nanoseconds()) / float64(ops)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// The four sides of TestOverheadSideBySide. The library gets its own
// newHTTPClient (a clone of http.DefaultTransport, http.Client.Timeout 30 s)
// through WithHTTPClient; the bare side uses another client built the same
// way, net/http and encoding/json.

func libUsersPage(srv *httptest.Server, per int) func(b *testing.B) {
	return func(b *testing.B) {
		c, _ := benchClient(b, srv)
		opts := &justcall.ListUsersOptions{PerPage: per}
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			for u, err := range c.Users.List(b.Context(), opts) {
				if err != nil {
					b.Fatal(err)
				}
				if u.ID != 0 {
					n++
				}
			}
			if n != per {
				b.Fatalf("listed %d users, want %d", n, per)
			}
		}
	}
}

func bareUsersPage(srv *httptest.Server, per int) func(b *testing.B) {
	return func(b *testing.B) {
		hc := newHTTPClient(4)
		b.Cleanup(func() { closeIdle(hc) })
		b.ReportAllocs()
		for b.Loop() {
			q := url.Values{"per_page": {strconv.Itoa(per)}, "page": {"0"}}
			req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, srv.URL+"/v2.1/users?"+q.Encode(), nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", benchAuth)
			req.Header.Set("Accept", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var p jcUsersPage
			err = json.NewDecoder(resp.Body).Decode(&p)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || len(p.Data) != per {
				b.Fatalf("status %d, %d users, err %v", resp.StatusCode, len(p.Data), err)
			}
		}
	}
}

func libMakeCall(srv *httptest.Server) func(b *testing.B) {
	return func(b *testing.B) {
		c, _ := benchClient(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			call, err := c.Calls.Make(b.Context(), justcall.MakeCallRequest{From: "+14155550100", To: "+14155550123", AgentID: 7})
			if err != nil || call.CallID == "" {
				b.Fatalf("%v %v", call, err)
			}
		}
	}
}

func bareMakeCall(srv *httptest.Server) func(b *testing.B) {
	return func(b *testing.B) {
		hc := newHTTPClient(4)
		b.Cleanup(func() { closeIdle(hc) })
		b.ReportAllocs()
		for b.Loop() {
			body, err := json.Marshal(jcMakeBody{From: "+14155550100", To: "+14155550123", AgentID: 7})
			if err != nil {
				b.Fatal(err)
			}
			req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, srv.URL+"/v2/calls/make", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", benchAuth)
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out jcMakeResponse
			err = json.NewDecoder(resp.Body).Decode(&out)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || out.Data.CallID == "" {
				b.Fatalf("status %d, err %v", resp.StatusCode, err)
			}
		}
	}
}

// sideServer answers the users page and the click-to-call POST with fixed
// bytes after checking the Authorization header (as JustCall does):
// per_page=5 answers 5 users, any other per_page 100 (both end the
// listing: next_page_link null).
func sideServer(tb testing.TB) *httptest.Server {
	small, page := usersPageJSON(1, 5, 0, ""), usersPageJSON(1, 100, 0, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") != benchAuth {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v2.1/users" && r.URL.Query().Get("per_page") == "5":
			_, _ = w.Write(small)
		case r.Method == http.MethodGet && r.URL.Path == "/v2.1/users":
			_, _ = w.Write(page)
		case r.Method == http.MethodPost && r.URL.Path == "/v2/calls/make":
			_, _ = w.Write(makeAnswer)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// TestOverheadSideBySide prints the per-call overhead of the library
// against bare net/http + encoding/json for the users-page GET and the
// click-to-call POST. It asserts nothing about time (the machine is
// shared); the figures go to BENCHMARKS.md.
func TestOverheadSideBySide(t *testing.T) {
	testenv.Long(t)
	srv := sideServer(t)
	for _, op := range sideOps(srv) {
		sideBySide(t, op.name, op.lib, op.base)
	}
}

type sideOp struct {
	name      string
	lib, base func(*testing.B)
}

func sideOps(srv *httptest.Server) []sideOp {
	return []sideOp{
		{"users-page GET, 5 users (library vs bare net/http+encoding/json)", libUsersPage(srv, 5), bareUsersPage(srv, 5)},
		{"users-page GET, 100 users (library vs bare net/http+encoding/json)", libUsersPage(srv, 100), bareUsersPage(srv, 100)},
		{"click-to-call POST (library vs bare net/http+encoding/json)", libMakeCall(srv), bareMakeCall(srv)},
	}
}

// TestAllocationBudget: per call, the library allocates at most 15 times
// more than bare net/http + encoding/json, though it also checks that From
// and To are possible E.164 numbers, which the bare side does not.
// Allocation counts are exact, so this is asserted (time is not: the
// machine is shared). Not under -race, where sync.Pool drops pooled
// buffers at random; .ci/run runs it without -race.
func TestAllocationBudget(t *testing.T) {
	if testenv.Race {
		t.Skip("allocation counts are not exact under -race; .ci/run runs this test without it")
	}
	bt := flag.Lookup("test.benchtime")
	require.NotNil(t, bt)
	prev := bt.Value.String()
	require.NoError(t, bt.Value.Set("1000x"))
	t.Cleanup(func() { _ = bt.Value.Set(prev) })
	for _, op := range sideOps(sideServer(t)) {
		la, ba := testing.Benchmark(op.lib).AllocsPerOp(), testing.Benchmark(op.base).AllocsPerOp()
		require.Positive(t, ba, "%s: the bare side ran", op.name)
		t.Logf("%s: allocs/op library %d baseline %d", op.name, la, ba)
		assert.LessOrEqual(t, la, ba+15, "%s: allocations per call", op.name)
	}
}

// handJWTClaims is what the hand-written handler decodes: the routing
// request's claims with golang-jwt's registered claims (exp, nbf, iat).
type handJWTClaims struct {
	jwt.RegisteredClaims
	DateStarted    int64  `json:"date_started"`
	CallID         int64  `json:"call_id"`
	ExternalNumber string `json:"external_number"`
	InternalNumber string `json:"internal_number"`
	ContactID      string `json:"contact_id"`
	ContactType    string `json:"contact_type"`
}

type handAnswer struct {
	Action     string `json:"action"`
	TargetID   int64  `json:"target_id"`
	TargetType string `json:"target_type"`
}

// handRoutingHandler is the job of dialpad.RoutingHandler written by hand
// with golang-jwt: read the body through a 64 KiB limit, verify the HS256
// JWT (method pinned), decode the claims once, call the RouteFunc in the
// request goroutine (no deadline of its own, no fallback), encode the
// answer.
func handRoutingHandler(route telephony.RouteFunc) http.Handler {
	key := []byte(routerSecret)
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}))
	keyFunc := func(*jwt.Token) (any, error) { return key, nil }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		var c handJWTClaims
		if _, err := parser.ParseWithClaims(string(body), &c, keyFunc); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		tgt, err := route(r.Context(), telephony.InboundCall{Provider: telephony.ProviderDialpad,
			CallID: strconv.FormatInt(c.CallID, 10), From: c.ExternalNumber, To: c.InternalNumber,
			ContactID: c.ContactID, ContactType: c.ContactType})
		if err != nil {
			http.Error(w, "no route", http.StatusInternalServerError)
			return
		}
		id, _ := strconv.ParseInt(tgt.ID, 10, 64)
		ans, _ := json.Marshal(handAnswer{Action: "route", TargetID: id, TargetType: string(tgt.Type)})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(ans)
	})
}

func routingLoop(h http.Handler, token []byte) func(b *testing.B) {
	return func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := httptest.NewRequest(http.MethodPost, "/dialpad/route", bytes.NewReader(token))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK || w.Body.String() != wantRouted {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	}
}

// TestRoutingSideBySide prints the Dialpad routing handler's cost against
// the hand-written golang-jwt handler doing the same job.
func TestRoutingSideBySide(t *testing.T) {
	testenv.Long(t)
	h := dialpadHandler(t)
	hand := handRoutingHandler(func(context.Context, telephony.InboundCall) (telephony.Target, error) {
		return telephony.UserTarget("4242"), nil
	})
	token := signedRouting(t, 1001)
	sideBySide(t, "Dialpad routing handler (dialpad.RoutingHandler vs hand-written golang-jwt handler)",
		routingLoop(h, token), routingLoop(hand, token))
}
