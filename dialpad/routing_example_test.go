package dialpad_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/telephony"
)

// The call router's secret, as given to CallRouters.Create (at least 32
// characters).
const rtExampleSecret = "example-router-secret-0123456789abcdef"

// Serve a call router's routing_url: callers from +1415 go to user 1001,
// everyone else to the fallback call center, which also answers whenever
// the RouteFunc fails, panics or is late.
func ExampleNewRoutingHandler() {
	h, err := dialpad.NewRoutingHandler(func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
		if strings.HasPrefix(call.From, "+1415") {
			return telephony.UserTarget("1001"), nil
		}
		return telephony.Target{}, errors.New("no account owner for this caller")
	}, dialpad.RoutingOptions{
		Secret:   rtExampleSecret,
		Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: "2001"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// In production: telephony.NewServer(":8443", h).ListenAndServeTLS(...)
	srv := httptest.NewServer(h)
	defer srv.Close()

	// What Dialpad POSTs for a router with a secret: an HS256 JWT of the call.
	for _, from := range []string{"+14155550100", "+442071838750"} {
		token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"date_started": time.Now().UnixMilli(), "call_id": 6000000000000001,
			"external_number": from, "internal_number": "+14155550199",
			"contact_id": "5551234", "contact_type": "local",
		}).SignedString([]byte(rtExampleSecret))
		resp, err := srv.Client().Post(srv.URL, "application/jwt", strings.NewReader(token))
		if err != nil {
			fmt.Println(err)
			return
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(answer))
	}
	s := h.Stats()
	fmt.Println("routed:", s.Routed, "fallbacks:", s.FallbackTotal(), "errors in the last hour:", s.ErrorsLastHour)
	// Output:
	// 200 {"target_id":1001,"target_type":"user"}
	// 200 {"target_id":2001,"target_type":"callcenter"}
	// routed: 1 fallbacks: 1 errors in the last hour: 0
}

// Receive call events from a Dialpad webhook created with a secret. A
// redelivered event reaches the EventFunc once.
func ExampleNewWebhookHandler() {
	const secret = "example-webhook-secret-0123456789abcdef"
	events := make(chan telephony.CallEvent, 10)
	h, err := dialpad.NewWebhookHandler(func(ctx context.Context, ev telephony.CallEvent) error {
		events <- ev
		return nil
	}, dialpad.WebhookOptions{Secret: secret})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	token, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"call_id": 6000000000000001, "state": "hangup", "direction": "inbound",
		"external_number": "+14155550100", "internal_number": "+14155550199",
		"event_timestamp": 1712345740000, "duration": 61500.0,
		"target": map[string]any{"id": 1001, "type": "user"},
	}).SignedString([]byte(secret))
	for range 2 { // a delivery and Dialpad's redelivery of it
		resp, err := srv.Client().Post(srv.URL, "application/jwt", strings.NewReader(token))
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Close drains the events being processed (call it on shutdown).
	if err := h.Close(context.Background()); err != nil {
		fmt.Println(err)
	}
	close(events)
	for ev := range events {
		fmt.Println(ev.CallID, ev.Type, ev.Status, ev.Direction, ev.From, "agent", ev.AgentID, ev.Duration)
	}
	// Output:
	// 200
	// 200
	// 6000000000000001 hangup completed inbound +14155550100 agent 1001 1m1.5s
}
