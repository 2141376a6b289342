package aircall_test

import (
	"errors"
	"fmt"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/telephony"
)

// Verify and parse a delivery yourself, for example to write it to a
// durable store before answering Aircall (with 200: Aircall does not retry
// and deactivates webhooks that keep failing).
func ExampleParseWebhook() {
	const token = "the-webhook-token" // returned by Aircall when the webhook was created
	body := []byte(`{"resource":"call","event":"call.hungup","timestamp":1712345740,"token":"the-webhook-token",
		"data":{"id":42,"direction":"inbound","status":"done","raw_digits":"+33 6 12 34 56 78",
		"answered_at":1712345700,"duration":40,"number":{"digits":"+1 415-555-0100"}}}`)

	ev, e, err := aircall.ParseWebhook(body, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.CallID, ev.Type, ev.Status, ev.From, ev.To, ev.Duration, e.Resource)

	_, _, err = aircall.ParseWebhook(body, "another-token")
	fmt.Println(errors.Is(err, telephony.ErrInvalidSignature))
	// Output:
	// 42 call.hungup completed +33612345678 +14155550100 40s call
	// true
}
