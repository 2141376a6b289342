package aircall_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
)

// Set up call events as code: create the webhook, serve its URL with
// NewWebhookHandler and the token creation returned, and re-enable it if
// Aircall deactivated it.
func ExampleWebhooksService_Create() {
	sim := aircalltest.NewServer() // drop these lines and WithBaseURL to use the real API
	defer sim.Close()
	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	wh, err := c.Webhooks().Create(ctx, aircall.CreateWebhookRequest{
		CustomName: "switchboard",
		URL:        "https://example.com/aircall/events",
		Events:     []string{aircall.EventCallCreated, aircall.EventCallEnded},
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := aircall.NewWebhookHandler(func(ctx context.Context, ev telephony.CallEvent) error {
		return nil
	}, aircall.WebhookOptions{Secret: wh.Token})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h) // in production: your server at wh.URL
	defer srv.Close()
	defer h.Close(ctx)
	fmt.Println(wh.Active, wh.Events, wh.Token != "")

	wh, err = c.Webhooks().Reenable(ctx, wh.ID)
	fmt.Println(wh.Active, err)

	// An empty event list is refused before anything is sent.
	_, err = c.Webhooks().Create(ctx, aircall.CreateWebhookRequest{URL: "https://example.com/x"})
	fmt.Println(errors.Is(err, telephony.ErrInvalidRequest))
	// Output:
	// true [call.created call.ended] true
	// true <nil>
	// true
}
