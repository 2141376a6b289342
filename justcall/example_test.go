package justcall_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

func ExampleCallsService_Make() {
	sim := justcalltest.NewServer() // drop these lines and WithBaseURL to use the real API
	defer sim.Close()
	sim.SeedUsers(2)

	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	call, err := c.Calls.Make(context.Background(), justcall.MakeCallRequest{
		From: "+14155550001", To: "+14155559876", AgentID: 1002,
	})
	switch {
	case errors.Is(err, telephony.ErrOutcomeUnknown):
		log.Fatal("the request was sent and the answer lost: check the call log before calling again")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(call.CallID, call.Direction, call.Status, "agent", call.AgentID)
	// Output: call_00000001 outbound ringing agent 1002
}

func ExampleUsersService_List() {
	sim := justcalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(3)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	for u, err := range c.Users.List(context.Background(), &justcall.ListUsersOptions{PerPage: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u.ID, u.Email, "available:", u.Available)
	}
	// Output:
	// 1001 agent1@example.com available: true
	// 1002 agent2@example.com available: true
	// 1003 agent3@example.com available: false
}

func ExampleNewCallbackHandler() {
	sim := justcalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(1)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	// One secret token for the client and the handler; it is not the API secret.
	token, err := justcall.NewCallbackToken()
	if err != nil {
		log.Fatal(err)
	}
	if err := c.SetCallbackToken(token); err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	h, err := justcall.NewCallbackHandler(func(ctx context.Context, ev telephony.CallEvent) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, fmt.Sprintf("%s %s %v", ev.CallID, ev.Status, ev.Duration))
		return nil
	}, justcall.CallbackOptions{Secret: token})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h) // in production: telephony.NewServer(addr, h)
	defer srv.Close()

	_, err = c.Calls.Make(context.Background(), justcall.MakeCallRequest{
		From: "+14155550001", To: "+14155559876", CallbackURL: srv.URL + "/justcall/status",
	})
	if err != nil {
		log.Fatal(err)
	}
	sim.Flush()                       // the simulator has played every callback
	_ = h.Close(context.Background()) // and the handler has handled them
	for _, s := range seen {
		fmt.Println(s)
	}
	// Output:
	// call_00000001 ringing 0s
	// call_00000001 in-progress 0s
	// call_00000001 completed 42s
}

func ExampleNewWebhookHandler() {
	sim := justcalltest.NewServer()
	defer sim.Close()
	done := make(chan telephony.CallEvent, 1)
	h, err := justcall.NewWebhookHandler(func(ctx context.Context, ev telephony.CallEvent) error {
		// data is not covered by JustCall's signature: re-read the call
		// (ev.CallID) before doing anything costly with it.
		done <- ev
		return nil
	}, justcall.WebhookOptions{Secret: justcalltest.APISecret})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	code, err := sim.SendWebhook(srv.URL, "call.completed", map[string]any{
		"id": 123, "contact_number": "+14155559876", "justcall_number": "+14155550001",
		"agent_id": 1001, "call_info": map[string]any{"direction": "Outgoing"},
		"call_duration": map[string]any{"total_duration": 185},
	})
	if err != nil {
		log.Fatal(err)
	}
	ev := <-done
	fmt.Println(code, ev.Type, ev.CallID, ev.Status, ev.Direction, ev.To, ev.Duration)
	// Output: 200 call.completed 123 completed outbound +14155559876 3m5s
}

func ExampleClient_Telephony() {
	sim := justcalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(1)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	phone := c.Telephony()
	call, err := phone.Dial(context.Background(), telephony.CallRequest{From: "+14155550001", To: "+14155559876"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(phone.Provider(), call.ID, call.Status)
	err = phone.Transfer(context.Background(), call.ID, telephony.UserTarget("1001"))
	fmt.Println(errors.Is(err, telephony.ErrUnsupported))
	// Output:
	// justcall call_00000001 ringing
	// true
}

// JustCall's webhook signature does not cover data, so a handler re-reads
// the call by id with Calls.Get and acts on that, not on the delivery.
func ExampleCallsService_Get() {
	sim := justcalltest.NewServer()
	defer sim.Close()
	sim.SeedUsers(1)
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	// A call that completes (its status callbacks go to a no-op receiver).
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer sink.Close()
	placed, err := c.Calls.Make(context.Background(), justcall.MakeCallRequest{
		From: "+14155550001", To: "+14155559876", CallbackURL: sink.URL,
	})
	if err != nil {
		log.Fatal(err)
	}
	sim.Flush()

	type result struct {
		call *justcall.CallDetails
		err  error
	}
	done := make(chan result, 1)
	h, err := justcall.NewWebhookHandler(func(ctx context.Context, ev telephony.CallEvent) error {
		call, err := c.Calls.Get(ctx, ev.CallID) // the webhook's data is only a hint
		done <- result{call, err}
		return err
	}, justcall.WebhookOptions{Secret: justcalltest.APISecret})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// A correctly signed delivery whose data claims an hour-long call.
	if _, err := sim.SendWebhook(srv.URL, "call.completed", map[string]any{
		"id": placed.CallID, "call_duration": map[string]any{"total_duration": 3600},
	}); err != nil {
		log.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		log.Fatal(r.err)
	}
	fmt.Println(r.call.ID, r.call.Direction, r.call.Type, r.call.Duration, "seconds")
	// Output: call_00000001 Outgoing Answered 42 seconds
}
