package dialpadtest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.Equal(t, dialpadtest.MaxRouterErrors, r.ErrorCount, "AddRouter returned %+v", r)
	require.True(t, r.Enabled, "AddRouter returned %+v; want enabled", r)
	require.Equal(t, dialpadtest.MaxRouterErrors, srv.RouterErrorCount(r.ID), "RouterErrorCount")
	res, err := srv.SimulateInboundCall(t.Context(), r.ID, "+16505550123", "")
	require.NoError(t, err)
	require.True(t, res.Disabled, "one error past the seeded %d: %+v; want the router disabled", dialpadtest.MaxRouterErrors, res)
	require.Error(t, res.Err, "one error past the seeded %d: %+v; want a routing error", dialpadtest.MaxRouterErrors, res)
	got, _ := srv.Router(r.ID)
	require.False(t, got.Enabled, "router after the error: %+v", got)
	require.Equal(t, dialpadtest.MaxRouterErrors+1, got.ErrorCount, "router after the error: %+v", got)

	// Seeded errors carry the simulator's time: they age out with it.
	fresh := srv.AddRouter(dialpadtest.Router{Name: "seeded", RoutingURL: hs.URL, OfficeID: 1,
		DefaultTargetID: 9, DefaultTargetType: "callcenter", Enabled: true, ErrorCount: 3})
	srv.AdvanceClock(59 * time.Minute)
	assert.Equal(t, 3, srv.RouterErrorCount(fresh.ID), "errors after 59 minutes")
	srv.AdvanceClock(2 * time.Minute)
	assert.Equal(t, 0, srv.RouterErrorCount(fresh.ID), "errors after 61 minutes")

	// Zero and negative seed nothing.
	for _, n := range []int{0, -5} {
		z := srv.AddRouter(dialpadtest.Router{Name: "clean", RoutingURL: hs.URL, OfficeID: 1,
			DefaultTargetID: 9, DefaultTargetType: "callcenter", Enabled: true, ErrorCount: n})
		assert.Equal(t, 0, z.ErrorCount, "ErrorCount %d: router %+v", n, z)
		assert.Equal(t, 0, srv.RouterErrorCount(z.ID), "ErrorCount %d: router %+v", n, z)
	}
}
