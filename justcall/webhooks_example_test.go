package justcall_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Subscribe one URL to the call events you need (one type per request);
// serve it with NewWebhookHandler and the account's API secret.
func ExampleWebhooksService_Create() {
	sim := justcalltest.NewServer() // drop these lines and WithBaseURL to use the real API
	defer sim.Close()
	c, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	for _, typ := range []string{justcall.EventCallCompleted, justcall.EventCallMissed} {
		if _, err := c.Webhooks().Create(ctx, justcall.CreateWebhookRequest{URL: "https://example.com/justcall/events", Type: typ}); err != nil {
			log.Fatal(err)
		}
	}
	for w, err := range c.Webhooks().List(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(w.Type, w.URL)
	}

	// A URL with credentials in it is refused before anything is sent.
	_, err = c.Webhooks().Create(ctx, justcall.CreateWebhookRequest{URL: "https://u:p@example.com/", Type: justcall.EventCallCompleted})
	fmt.Println(errors.Is(err, telephony.ErrInvalidRequest))
	// Output:
	// call.completed https://example.com/justcall/events
	// call.missed https://example.com/justcall/events
	// true
}
