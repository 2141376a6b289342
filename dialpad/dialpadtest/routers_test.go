package dialpadtest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
)

// TestAddRouterSeedsErrorCount: AddRouter's ErrorCount is real state: it is
// reported, it ages out after an hour, and one more routing error on a
// router seeded at the threshold disables it.
func TestAddRouterSeedsErrorCount(t *testing.T) {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	var ep routingEndpoint
	hs := httptest.NewServer(ep.serve(func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }))
	defer hs.Close()

	r := srv.AddRouter(dialpadtest.Router{Name: "near-disabled", RoutingURL: hs.URL, OfficeID: 1,
		DefaultTargetID: 9, DefaultTargetType: "callcenter", Enabled: true, ErrorCount: dialpadtest.MaxRouterErrors})
	if r.ErrorCount != dialpadtest.MaxRouterErrors || !r.Enabled {
		t.Fatalf("AddRouter returned %+v; want %d errors, enabled", r, dialpadtest.MaxRouterErrors)
	}
	if n := srv.RouterErrorCount(r.ID); n != dialpadtest.MaxRouterErrors {
		t.Fatalf("RouterErrorCount = %d; want %d", n, dialpadtest.MaxRouterErrors)
	}
	res, err := srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Disabled || res.Err == nil {
		t.Fatalf("one error past the seeded %d: %+v; want the router disabled", dialpadtest.MaxRouterErrors, res)
	}
	got, _ := srv.Router(r.ID)
	if got.Enabled || got.ErrorCount != dialpadtest.MaxRouterErrors+1 {
		t.Fatalf("router after the error: %+v", got)
	}

	// Seeded errors carry the simulator's time: they age out with it.
	fresh := srv.AddRouter(dialpadtest.Router{Name: "seeded", RoutingURL: hs.URL, OfficeID: 1,
		DefaultTargetID: 9, DefaultTargetType: "callcenter", Enabled: true, ErrorCount: 3})
	srv.AdvanceClock(59 * time.Minute)
	if n := srv.RouterErrorCount(fresh.ID); n != 3 {
		t.Errorf("after 59 minutes: %d errors; want 3", n)
	}
	srv.AdvanceClock(2 * time.Minute)
	if n := srv.RouterErrorCount(fresh.ID); n != 0 {
		t.Errorf("after 61 minutes: %d errors; want 0", n)
	}

	// Zero and negative seed nothing.
	for _, n := range []int{0, -5} {
		z := srv.AddRouter(dialpadtest.Router{Name: "clean", RoutingURL: hs.URL, OfficeID: 1,
			DefaultTargetID: 9, DefaultTargetType: "callcenter", Enabled: true, ErrorCount: n})
		if z.ErrorCount != 0 || srv.RouterErrorCount(z.ID) != 0 {
			t.Errorf("ErrorCount %d: router %+v", n, z)
		}
	}
}
