package dialpad_test

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/telephony"
)

// Verify and parse a call event yourself, for example to write it to a
// durable store before answering Dialpad.
func ExampleParseWebhook() {
	const secret = "the-webhook-secret-of-32-characters-or-more"
	// What Dialpad POSTs to a webhook with a secret: an HS256 JWT of the event.
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"call_id": 6000000000000001, "state": "hangup", "direction": "inbound",
		"external_number": "+14155550100", "internal_number": "+14155550199",
		"event_timestamp": 1712345740001,
	}).SignedString([]byte(secret))

	ev, e, err := dialpad.ParseWebhook([]byte(token), secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.CallID, ev.Type, ev.Status, ev.From, e.State)

	_, _, err = dialpad.ParseWebhook([]byte(token), "another-secret-of-32-characters-or-more")
	fmt.Println(errors.Is(err, telephony.ErrInvalidSignature))
	// Output:
	// 6000000000000001 hangup completed +14155550100 hangup
	// true
}

// Verify and parse a routing request yourself; answer Dialpad 200 with a
// target within 5 s whatever happens.
func ExampleParseRoutingRequest() {
	const secret = "the-router-secret-of-32-characters-or-more"
	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"date_started": 1712345678901, "call_id": 6000000000000001,
		"external_number": "+14155550100", "internal_number": "+14155550199",
		"contact_id": "5551234", "contact_type": "local",
	}).SignedString([]byte(secret))

	call, req, err := dialpad.ParseRoutingRequest([]byte(token), secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(call.CallID, call.From, call.To, req.ContactType, call.StartedAt.UnixMilli())
	// Output: 6000000000000001 +14155550100 +14155550199 local 1712345678901
}
