// Command clicktocall places a click-to-call on JustCall, Dialpad or Aircall
// through the portable telephony.Client, and prints the call's status events
// as the provider reports them, until the call ends.
//
// With no credentials in the environment it runs against the provider's
// simulator and exits within a second:
//
//	go run ./examples/clicktocall -provider justcall
//	go run ./examples/clicktocall -provider dialpad
//	go run ./examples/clicktocall -provider aircall
//
// With the provider's credentials set it places a real call and serves the
// event endpoint on ADDR (default :8080) for the provider to post to. The
// provider must be able to reach that endpoint from the internet: run it
// behind a tunnel or a reverse proxy with HTTPS, and set PUBLIC_URL to the
// public base URL. See live.go for the variables of each provider.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
)

// config is what the flags say.
type config struct {
	Provider string
	To       string // the customer, E.164
	From     string // the number to call from, E.164 (JustCall: required live)
	Agent    string // the provider's id of the agent who rings first
	Timeout  time.Duration
}

// setup is a provider ready for one click-to-call: its portable client, the
// endpoint that receives the call's events, and, against a simulator, how
// the simulated phones behave.
type setup struct {
	client  *telephony.Client
	path    string // where the event endpoint is served
	handler http.Handler
	req     telephony.CallRequest
	// callback says the provider posts the events to req.CallbackURL
	// (JustCall), built from the server's base URL and path.
	callback bool
	// addr and publicURL: where to listen, and the base URL the provider
	// reaches it at (live); both empty against a simulator.
	addr, publicURL string
	// register subscribes the event endpoint at the simulator once its
	// base URL is known (Dialpad's webhook, Aircall's webhook).
	register func(base string)
	sim      simulator // nil when live
	close    func()
}

// simulator drives a simulated call the way the phones would.
type simulator interface {
	// placed is called once Dial has returned.
	placed(ctx context.Context, call *telephony.Call) error
	// next moves the call on after its event ev was received: the agent
	// answers, the customer picks up, someone hangs up.
	next(ctx context.Context, ev telephony.CallEvent) error
}

func main() {
	log.SetFlags(0)
	var cfg config
	flag.StringVar(&cfg.Provider, "provider", "justcall", "justcall, dialpad or aircall")
	flag.StringVar(&cfg.To, "to", "", "the customer's number, E.164 (default +14155559876 against the simulator)")
	flag.StringVar(&cfg.From, "from", "", "the number to call from, E.164 (JustCall: one of the account's numbers)")
	flag.StringVar(&cfg.Agent, "agent", "", "the provider's id of the agent whose devices ring first")
	flag.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "give up when the call has not ended by then")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := run(ctx, cfg, os.Stdout); err != nil {
		log.Fatalf("clicktocall: %v", err)
	}
}

// run places the call and prints its events to w until one has a final
// status, and returns the events of the call in the order they arrived.
func run(ctx context.Context, cfg config, w io.Writer) ([]telephony.CallEvent, error) {
	events := make(chan telephony.CallEvent, 64)
	onEvent := func(ctx context.Context, ev telephony.CallEvent) error {
		select {
		case events <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s, err := live(cfg, onEvent)
	if err != nil {
		return nil, err
	}
	if s == nil {
		if s, err = simulate(cfg, onEvent); err != nil {
			return nil, err
		}
		// A simulated call ends within a second.
		if cfg.Timeout <= 0 || cfg.Timeout > 10*time.Second {
			cfg.Timeout = 10 * time.Second
		}
	}
	defer s.close()
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}

	base, shutdown, err := serve(s)
	if err != nil {
		return nil, err
	}
	defer shutdown()
	if s.callback {
		s.req.CallbackURL = base + s.path
	}
	if s.register != nil {
		s.register(base)
	}
	mode := "simulator"
	if s.sim == nil {
		mode = "live, events on " + base + s.path
	}
	fmt.Fprintf(w, "%s (%s): calling agent %s, then %s", s.client.Provider(), mode, orDash(s.req.AgentID), s.req.To)
	if s.req.From != "" {
		fmt.Fprintf(w, " from %s", s.req.From)
	}
	fmt.Fprintln(w)

	start := time.Now()
	call, err := s.client.Dial(ctx, s.req)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	if call.ID == "" {
		fmt.Fprintf(w, "placed: status %s (%s sends the call id with the first event)\n", call.Status, s.client.Provider())
	} else {
		fmt.Fprintf(w, "placed: call %s, status %s\n", call.ID, call.Status)
	}
	if s.sim != nil {
		if err := s.sim.placed(ctx, call); err != nil {
			return nil, err
		}
	}
	var got []telephony.CallEvent
	for {
		var ev telephony.CallEvent
		select {
		case ev = <-events:
		case <-ctx.Done():
			return got, fmt.Errorf("the call has not ended: %w", ctx.Err())
		}
		if !ours(call, ev) {
			continue
		}
		got = append(got, ev)
		line := fmt.Sprintf("  %7.3fs  %-12s %s", time.Since(start).Seconds(), ev.Status, ev.Type)
		if ev.Duration > 0 {
			line += fmt.Sprintf("  (talked %v)", ev.Duration)
		}
		fmt.Fprintln(w, line)
		if ev.Status.Final() {
			fmt.Fprintf(w, "call %s ended: %s, %d events in %v\n", call.ID, ev.Status, len(got),
				time.Since(start).Round(time.Millisecond))
			return got, nil
		}
		if s.sim != nil {
			if err := s.sim.next(ctx, ev); err != nil {
				return got, err
			}
		}
	}
}

// ours reports whether ev is about call. Aircall answers a started call
// with no id: its id arrives with the first event of an outbound call to
// the same number, which is then adopted.
func ours(call *telephony.Call, ev telephony.CallEvent) bool {
	if call.ID == "" && ev.Direction == telephony.DirectionOutbound && ev.To == call.To {
		call.ID = ev.CallID
	}
	return ev.CallID == call.ID
}

// serve starts the event endpoint and returns its base URL and a function
// that stops it (waiting for the events being handled).
func serve(s *setup) (string, func(), error) {
	mux := http.NewServeMux()
	mux.Handle("POST "+s.path, s.handler)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"message":"Server is running"}`)
	})
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := telephony.NewServer(l.Addr().String(), mux)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("clicktocall: server: %v", err)
		}
	}()
	base := s.publicURL
	if base == "" {
		base = "http://" + l.Addr().String()
	}
	return base, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		if c, ok := s.handler.(interface{ Close(context.Context) error }); ok {
			_ = c.Close(ctx)
		}
	}, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
