package main

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/telephony"
)

// live serves the real routing endpoints when credentials are set, and
// reports whether it did. Variables:
//
//	ADDR                   listen address (default :8080)
//	DIALPAD_API_KEY        Dialpad API key: serves POST /dialpad/route
//	DIALPAD_ROUTER_SECRET  the call router's secret (>= 32 characters)
//	DIALPAD_FALLBACK_TYPE  fallback target type (default callcenter)
//	DIALPAD_FALLBACK_ID    fallback target id (the router's default target)
//	AIRCALL_API_ID, AIRCALL_API_TOKEN: serves POST /aircall/calls
//	AIRCALL_WEBHOOK_TOKEN  the token of the Aircall webhook
//	AIRCALL_FALLBACK_TEAM  team id for calls no rule routes (optional)
//
// GET / answers {"message":"Server is running"}, as in Aircall's tutorial.
func live() bool {
	dialpadKey := os.Getenv("DIALPAD_API_KEY")
	aircallID, aircallToken := os.Getenv("AIRCALL_API_ID"), os.Getenv("AIRCALL_API_TOKEN")
	if dialpadKey == "" && (aircallID == "" || aircallToken == "") {
		return false
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "Server is running"})
	})
	var closers []func(context.Context) error
	if dialpadKey != "" {
		dp, err := dialpad.New(dialpadKey, telephony.WithLogger(logger))
		if err != nil {
			log.Fatal(err)
		}
		fbType := envOr("DIALPAD_FALLBACK_TYPE", "callcenter")
		h, err := dialpad.NewRoutingHandler(route, dialpad.RoutingOptions{
			Secret: os.Getenv("DIALPAD_ROUTER_SECRET"), Client: dp, Logger: logger,
			Fallback: telephony.Target{Type: telephony.TargetType(fbType), ID: os.Getenv("DIALPAD_FALLBACK_ID")},
		})
		if err != nil {
			log.Fatalf("dialpad routing: %v", err)
		}
		mux.Handle("POST /dialpad/route", h)
		closers = append(closers, h.Close)
		log.Print("serving Dialpad call-router requests on POST /dialpad/route")
	}
	if aircallID != "" && aircallToken != "" {
		ac, err := aircall.New(aircallID, aircallToken, telephony.WithLogger(logger))
		if err != nil {
			log.Fatal(err)
		}
		var fallback telephony.Target
		if team := os.Getenv("AIRCALL_FALLBACK_TEAM"); team != "" {
			fallback = telephony.Target{Type: telephony.TargetTeam, ID: team}
		}
		h, err := aircall.NewRoutingHandler(route, aircall.RoutingOptions{
			Client: ac,
			Secret: os.Getenv("AIRCALL_WEBHOOK_TOKEN"), Fallback: fallback, Logger: logger,
		})
		if err != nil {
			log.Fatalf("aircall routing: %v", err)
		}
		mux.Handle("POST /aircall/calls", h)
		closers = append(closers, h.Close)
		log.Print("serving Aircall call.created webhooks on POST /aircall/calls")
	}
	srv := telephony.NewServer(envOr("ADDR", ":8080"), mux)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		for _, c := range closers {
			_ = c(shutdown)
		}
	}()
	log.Printf("listening on %s", srv.Addr)
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
	return true
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
