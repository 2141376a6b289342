package otel_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/otel"
)

// The trace of one call routed on Aircall: the handler answers
// call.created, then re-reads the call and transfers it, each operation a
// span with its attempts as children.
func ExampleNew_routedCall() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	obs, err := otel.New(otel.Options{TracerProvider: tp})
	if err != nil {
		log.Fatal(err)
	}

	sim := aircalltest.NewServer()
	defer sim.Close()
	agent := sim.SeedUsers(1)[0]
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, telephony.WithBaseURL(sim.URL()), telephony.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	route := func(context.Context, telephony.InboundCall) (telephony.Target, error) {
		return telephony.UserTarget(strconv.FormatInt(agent.ID, 10)), nil
	}
	h, err := aircall.NewRoutingHandler(route, aircall.RoutingOptions{Client: ac, Secret: "webhook-token", Observer: obs})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	sim.SetWebhook(srv.URL, "webhook-token")

	id := sim.CreateInboundCall("+33612345678", "+14155550100")
	body, _ := sim.Payload("call.created", id)
	resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	_ = h.Close(context.Background()) // waits for the routing to finish

	for _, s := range spans.Ended() {
		indent := ""
		if s.Parent().IsValid() {
			indent = "  "
		}
		fmt.Printf("%s%s (%s)\n", indent, s.Name(), s.Status().Code)
	}
	fmt.Println("answered", resp.StatusCode, "- transfers:", len(sim.Transfers()))
	// Output:
	//   attempt 1 (Unset)
	// GET /v1/calls/{id} (Unset)
	//   attempt 1 (Unset)
	// POST /v1/calls/{id}/transfers (Unset)
	// answered 200 - transfers: 1
}
