package otel_test

import (
	"context"
	"fmt"
	"log"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/otel"
)

func ExampleNew() {
	// A program sets up its providers with exporters (OTLP, Prometheus,
	// ...); Options{} uses the otel globals.
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	mp := sdkmetric.NewMeterProvider()
	defer mp.Shutdown(context.Background())

	obs, err := otel.New(otel.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		log.Fatal(err)
	}

	sim := aircalltest.NewServer() // drop these lines and WithBaseURL to use the real API
	defer sim.Close()
	agent := sim.SeedUsers(1)[0]

	// Every operation of this client is now a span with a child per
	// attempt, and feeds the switchboard.call.* metrics. Handlers take the
	// same Observer in the Observer field of their options.
	c, err := aircall.New(aircalltest.APIID, aircalltest.APIToken,
		telephony.WithBaseURL(sim.URL()), telephony.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	u, err := c.Users.Get(context.Background(), agent.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Name)
	// Output: Agent 1
}
