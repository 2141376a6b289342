package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/switchboard-go/switchboard/aircall"
	"github.com/switchboard-go/switchboard/aircall/aircalltest"
	"github.com/switchboard-go/switchboard/dialpad"
	"github.com/switchboard-go/switchboard/dialpad/dialpadtest"
	"github.com/switchboard-go/switchboard/justcall"
	"github.com/switchboard-go/switchboard/justcall/justcalltest"
	"github.com/switchboard-go/switchboard/telephony"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// runReplica is one replica of the backend: the process the orchestrator
// starts three times. It serves, on a loopback port it prints first:
//
//	POST /dial            click-to-call, {"provider","from","to","agent"}
//	POST /dialpad/route   the Dialpad call router's routing_url
//	POST /dialpad/events  the Dialpad call-event webhook
//	POST /aircall/route   the Aircall webhook that routes call.created
//	POST /aircall/events  the Aircall call-event webhook
//
// Everything it remembers between requests goes through one state store:
// rate limits, webhook dedupe keys, routing claims and the event log. It
// runs until its standard input closes (the orchestrator closes it, or
// dies).
func runReplica() error {
	idx, _ := strconv.Atoi(os.Getenv(envIndex))
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv(envVerbose) == "1" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", idx+1)
	}
	idle, _ := time.ParseDuration(os.Getenv(envIdle))
	st, err := openStore(context.Background(), os.Getenv(envStore), os.Getenv(envRedis), os.Getenv(envPrefix), idle)
	if err != nil {
		return err
	}
	defer st.Close()
	// Every client and handler built from here on uses st.
	state.SetDefault(st)

	opts := []telephony.Option{telephony.WithState(st), telephony.WithLogger(logger),
		telephony.WithRetryBackoff(10*time.Millisecond, 200*time.Millisecond)}
	jc, err := justcall.New(justcalltest.APIKey, justcalltest.APISecret, append(opts, telephony.WithBaseURL(os.Getenv(envJustCall)))...)
	if err != nil {
		return err
	}
	dp, err := dialpad.New(dialpadtest.APIKey, append(opts, telephony.WithBaseURL(os.Getenv(envDialpad)))...)
	if err != nil {
		return err
	}
	ac, err := aircall.New(aircalltest.APIID, aircalltest.APIToken, append(opts, telephony.WithBaseURL(os.Getenv(envAircall)))...)
	if err != nil {
		return err
	}

	led := &ledgerClient{base: os.Getenv(envLedger), replica: idx, stall: os.Getenv(envStall) == "1",
		hc: &http.Client{Timeout: 5 * time.Second}}
	route := telephony.Route(telephony.Target{}, telephony.LastAgent(lastAgent))

	dialpadRoute, err := dialpad.NewRoutingHandler(route, dialpad.RoutingOptions{
		Secret: routerSecret, Client: dp, Logger: logger,
		Fallback: telephony.Target{Type: telephony.TargetCallCenter, ID: strconv.Itoa(fallbackCenter)},
	})
	if err != nil {
		return err
	}
	dialpadEvents, err := dialpad.NewWebhookHandler(led.event, dialpad.WebhookOptions{Secret: dialpadSecret,
		State: st, Timeout: eventTimeout, Logger: logger,
	})
	if err != nil {
		return err
	}
	// The Aircall routing handler calls route only for a call it claimed:
	// tell the orchestrator, which explains the calls left untransferred.
	claimed := func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
		_ = led.post(ctx, "/routing", eventKey(call.Provider, call.CallID, "route"))
		return route(ctx, call)
	}
	aircallRoute, err := aircall.NewRoutingHandler(claimed, aircall.RoutingOptions{Client: ac,
		Secret: aircallToken, State: st, Timeout: routeTimeout, Logger: logger,
	})
	if err != nil {
		return err
	}
	aircallEvents, err := aircall.NewWebhookHandler(led.event, aircall.WebhookOptions{Secret: aircallToken,
		State: st, Timeout: eventTimeout, Logger: logger,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("POST /dial", dialHandler(map[string]*telephony.Client{
		telephony.ProviderJustCall: jc.Telephony(), telephony.ProviderDialpad: dp.Telephony(),
	}))
	mux.Handle("POST /dialpad/route", dialpadRoute)
	mux.Handle("POST /dialpad/events", dialpadEvents)
	mux.Handle("POST /aircall/route", aircallRoute)
	mux.Handle("POST /aircall/events", aircallEvents)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := telephony.NewServer(l.Addr().String(), mux)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Printf("%shttp://%s\n", readyPrefix, l.Addr())

	// Run until the orchestrator closes our standard input.
	_, _ = io.Copy(io.Discard, os.Stdin)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	var errs []error
	for _, c := range []interface{ Close(context.Context) error }{
		dialpadRoute, dialpadEvents, aircallRoute, aircallEvents,
	} {
		errs = append(errs, c.Close(ctx))
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dialRequest is the body of POST /dial.
type dialRequest struct {
	Provider string `json:"provider"`
	From     string `json:"from,omitempty"`
	To       string `json:"to"`
	Agent    string `json:"agent"`
}

// dialRefusal is the body of a 429 from POST /dial.
type dialRefusal struct {
	Error string `json:"error"`
	// ReachedProvider: the provider refused the call (429); otherwise the
	// client refused it without sending anything.
	ReachedProvider bool `json:"reached_provider"`
}

// dialHandler places a click-to-call through the portable client of the
// provider asked for. A call the account's rate limit cannot take within
// dialWait is refused with 429 and Retry-After, and nothing is sent to the
// provider.
func dialHandler(clients map[string]*telephony.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req dialRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		c, ok := clients[req.Provider]
		if !ok {
			http.Error(w, "unknown provider", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), dialWait)
		defer cancel()
		call, err := c.Dial(ctx, telephony.CallRequest{From: req.From, To: req.To, AgentID: req.Agent})
		w.Header().Set("Content-Type", "application/json")
		var te *telephony.Error
		switch {
		case err == nil:
			_ = json.NewEncoder(w).Encode(map[string]string{"call_id": call.ID})
		case errors.Is(err, telephony.ErrRateLimited):
			// StatusCode says whether the provider answered (429): when it
			// is 0 the client refused the call without sending anything.
			reached := errors.As(err, &te) && te.StatusCode != 0
			if te != nil && te.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Round(time.Second)/time.Second)))
			}
			w.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(w).Encode(dialRefusal{Error: err.Error(), ReachedProvider: reached})
		default:
			w.WriteHeader(http.StatusBadGateway)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		}
	})
}

// ledgerClient is the EventFunc of both event webhooks: it records each
// event it processes with the orchestrator, which counts who processed
// what. In the stalled replica it hangs instead, as a replica whose
// downstream stopped answering would, so that the events it took stay
// unacknowledged until it is killed.
type ledgerClient struct {
	base    string
	replica int
	stall   bool
	hc      *http.Client
}

func (l *ledgerClient) event(ctx context.Context, ev telephony.CallEvent) error {
	key := eventKey(ev.Provider, ev.CallID, ev.Type)
	if l.stall {
		if err := l.post(ctx, "/holding", key); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	}
	return l.post(ctx, "/processed", key)
}

func (l *ledgerClient) post(ctx context.Context, path, key string) error {
	q := url.Values{"replica": {strconv.Itoa(l.replica)}, "key": {key}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := l.hc.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("ledger answered %d", resp.StatusCode)
	}
	return nil
}
