package dialpadtest_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Point a Dialpad client at the simulator.
func ExampleNewServer() {
	srv := dialpadtest.NewServer()
	defer srv.Close()
	srv.SeedUsers(2)

	dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	for u, err := range dp.Users.List(context.Background(), nil) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(u.PrimaryEmail())
	}
	fmt.Println("requests:", srv.Count("GET", "/api/v2/users"))
	// Output:
	// agent1@example.com
	// agent2@example.com
	// requests: 1
}

// An inbound call end to end: the simulator plays Dialpad, asking a
// RoutingHandler where the call goes.
func ExampleServer_SimulateInboundCall() {
	srv := dialpadtest.NewServer()
	dp, _ := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(srv.URL()))
	defer srv.Close()
	ctx := context.Background()
	const secret = "example-router-secret-0123456789abcdef"

	h, err := dialpad.NewRoutingHandler(func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
		return telephony.UserTarget("1001"), nil
	}, dialpad.RoutingOptions{Secret: secret, Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: "2001"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	routing := httptest.NewServer(h)
	defer routing.Close()

	router, err := dp.CallRouters.Create(ctx, dialpad.CreateCallRouterRequest{
		Name: "main", RoutingURL: routing.URL, OfficeID: dialpadtest.OfficeID,
		DefaultTargetID: 2001, DefaultTargetType: dialpad.TargetTypeCallCenter, Secret: secret,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := srv.SimulateInboundCall(ctx, router.ID, "+16505550123", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.TargetType, res.TargetID, "fallback:", res.Fallback, "router errors:", srv.RouterErrorCount(router.ID))
	// Output: user 1001 fallback: false router errors: 0
}
