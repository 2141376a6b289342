package dialpad_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/telephony"
)

// The examples run against the simulator; in production drop WithBaseURL and
// pass your API key.
func exampleClient() (*dialpad.Client, *dialpadtest.Server) {
	srv := dialpadtest.NewServer()
	dp, err := dialpad.New(dialpadtest.APIKey, telephony.WithBaseURL(srv.URL()))
	if err != nil {
		panic(err)
	}
	return dp, srv
}

// Create a call router whose routing requests are signed, and give it a
// number.
func ExampleCallRoutersService_Create() {
	dp, srv := exampleClient()
	defer srv.Close()
	ctx := context.Background()

	router, err := dp.CallRouters.Create(ctx, dialpad.CreateCallRouterRequest{
		Name:              "Sales main line",
		RoutingURL:        "https://example.com/dialpad/route",
		OfficeID:          dialpadtest.OfficeID,
		DefaultTargetID:   2001,
		DefaultTargetType: dialpad.TargetTypeCallCenter,
		Secret:            "example-router-secret-0123456789abcdef",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	num, err := dp.CallRouters.AssignNumber(ctx, router.ID, dialpad.AssignNumberRequest{AreaCode: "415"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(router.Name, router.Enabled, router.Signature.Algo)
	fmt.Println(num.Number, num.TargetType)

	// A secret under 32 characters is refused before anything is sent.
	_, err = dp.CallRouters.Create(ctx, dialpad.CreateCallRouterRequest{
		Name: "x", RoutingURL: "https://example.com/r", OfficeID: 1, DefaultTargetID: 1,
		DefaultTargetType: dialpad.TargetTypeUser, Secret: "too-short",
	})
	fmt.Println(errors.Is(err, telephony.ErrInvalidRequest))
	// Output:
	// Sales main line true HS256
	// +14155550001 callrouter
	// true
}

// Bring back a router that Dialpad disabled after more than 10 routing
// errors in an hour: enabled=true and reset_error_count=true in one update.
func ExampleCallRoutersService_Reenable() {
	dp, srv := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	r := srv.AddRouter(dialpadtest.Router{Name: "r", RoutingURL: "https://example.com/r", OfficeID: 1,
		DefaultTargetID: 2, DefaultTargetType: "office", Enabled: false})

	router, err := dp.CallRouters.Reenable(ctx, r.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("enabled:", router.Enabled)

	// One update per router every 5 minutes: the next fails fast.
	_, err = dp.CallRouters.Reenable(ctx, r.ID)
	var te *telephony.Error
	if errors.As(err, &te) && errors.Is(err, telephony.ErrRateLimited) {
		fmt.Println("rate limited; retry after about", te.RetryAfter.Round(time.Minute))
	}
	// Output:
	// enabled: true
	// rate limited; retry after about 5m0s
}

// Ring an agent's devices, then call the customer.
func ExampleCallsService_Initiate() {
	dp, srv := exampleClient()
	defer srv.Close()
	agent := srv.SeedUsers(1)[0]

	call, err := dp.Calls.Initiate(context.Background(), dialpad.InitiateCallRequest{
		PhoneNumber: "+14155550100",
		UserID:      agent.ID,
		CustomData:  "crm-ticket-42",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(call.CallID > 0, len(srv.Calls()))
	// Output: true 1
}

// Transfer a live call to a department.
func ExampleCallsService_Transfer() {
	dp, srv := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	agent := srv.SeedUsers(1)[0]
	call, _ := dp.Calls.Initiate(ctx, dialpad.InitiateCallRequest{PhoneNumber: "+14155550100", UserID: agent.ID})

	tr, err := dp.Calls.Transfer(ctx, call.CallID, dialpad.TransferRequest{
		To:            dialpad.TransferDestination{TargetID: 3001, TargetType: "department"},
		TransferState: "hold",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tr.TransferredToState)

	// Two destinations at once are refused before sending.
	_, err = dp.Calls.Transfer(ctx, call.CallID, dialpad.TransferRequest{
		To: dialpad.TransferDestination{Number: "+14155550111", TargetID: 3001, TargetType: "department"},
	})
	fmt.Println(errors.Is(err, telephony.ErrInvalidRequest))
	// Output:
	// hold
	// true
}

// List users page by page (Dialpad's cursor is followed for you), and find
// one by email through the cache.
func ExampleUsersService_List() {
	dp, srv := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	srv.SeedUsers(3)

	for u, err := range dp.Users.List(ctx, nil) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(u.Name(), u.PrimaryEmail())
	}
	u, err := dp.Users.FindByEmail(ctx, "Agent2@example.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("found", u.Name())
	// Output:
	// Agent 1 agent1@example.com
	// Agent 2 agent2@example.com
	// Agent 3 agent3@example.com
	// found Agent 2
}

// The portable view: the same code works for JustCall and Aircall.
func ExampleClient_Telephony() {
	dp, srv := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	agent := srv.SeedUsers(1)[0]

	phone := dp.Telephony()
	call, err := phone.Dial(ctx, telephony.CallRequest{To: "+14155550100", AgentID: strconv.FormatInt(agent.ID, 10)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(phone.Provider(), call.Status)
	err = phone.Transfer(ctx, call.ID, telephony.UserByEmail("agent1@example.com"))
	fmt.Println(err)
	// Output:
	// dialpad initiated
	// <nil>
}
