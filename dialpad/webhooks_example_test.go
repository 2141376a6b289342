package dialpad_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/telephony"
)

// Set up call events as code: a signed webhook (serve its URL with
// dialpad.NewWebhookHandler and the same secret) and a subscription to the
// call states you want.
func ExampleWebhooksService_Create() {
	dp, srv := exampleClient()
	defer srv.Close()
	ctx := context.Background()
	const secret = "example-webhook-secret-0123456789abcdef"

	wh, err := dp.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{
		HookURL: "https://example.com/dialpad/events",
		Secret:  secret,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sub, err := dp.CallSubscriptions().Create(ctx, dialpad.CreateCallSubscriptionRequest{
		EndpointID: wh.ID,
		CallStates: []string{dialpad.CallStateConnected, dialpad.CallStateHangup},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(wh.HookURL, wh.Signature.Algo)
	fmt.Println(sub.CallStates, sub.Enabled)

	// Credentials in the URL are refused before anything is sent.
	_, err = dp.Webhooks().Create(ctx, dialpad.CreateWebhookRequest{HookURL: "https://user:pass@example.com/"})
	fmt.Println(errors.Is(err, telephony.ErrInvalidRequest))
	// Output:
	// https://example.com/dialpad/events HS256
	// [connected hangup] true
	// true
}
