// Command smartrouting is Switchboard's main demonstration: "send the
// caller to the agent they spoke to last", on Dialpad and on Aircall, with
// one routing function.
//
// With no credentials in the environment it starts the Dialpad and Aircall
// simulators, serves both routing endpoints on loopback, places a batch of
// inbound calls (known customers, one the CRM lacks whose last agent the
// provider remembers, a UK caller, unknown callers, and a customer whose
// CRM lookup is too slow and falls back) and prints where each call went:
//
//	go run ./examples/smartrouting
//
// With DIALPAD_API_KEY, or AIRCALL_API_ID and AIRCALL_API_TOKEN, set it
// serves the real endpoints instead; see live.go for the variables.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/switchboard-go/switchboard/telephony"
)

// The agents, and the CRM that knows which agent each customer last spoke
// to. In a real deployment this is your database. Carol's customer is not
// in it: the provider itself knows (see newRoute).
var (
	agents = []struct{ First, Last, Email string }{
		{"Ann", "Lee", "ann@example.com"},
		{"Bob", "Stone", "bob@example.com"},
		{"Carol", "Diaz", "carol@example.com"},
		{"Uma", "Khan", "uk-desk@example.com"},
	}
	lastAgent = map[string]string{
		"+14155550101": "ann@example.com",
		"+14155550102": "bob@example.com",
		"+14155550199": "slow", // the CRM takes too long for this one
	}
)

// crmLookup is the customer database: it answers at once, except for the
// "slow" customer, where it stalls until the routing budget runs out.
func crmLookup(ctx context.Context, caller string) (string, error) {
	email := lastAgent[caller]
	if email != "slow" {
		return email, nil
	}
	select {
	case <-time.After(10 * time.Second):
		return "", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// newRoute is the one routing function both providers use: the caller's
// last agent from the CRM, else the last agent the provider itself knows
// (mem: the calls its webhooks reported, or Aircall's call history), else
// the UK desk for +44 callers, else the handler's fallback.
func newRoute(mem *telephony.LastAgentMemory) telephony.RouteFunc {
	return telephony.Route(telephony.Target{},
		telephony.LastAgent(crmLookup),
		mem.Rule(),
		telephony.ByCallerPrefix(map[string]telephony.Target{"+44": telephony.UserByEmail("uk-desk@example.com")}),
	)
}

// route is newRoute over a memory of this process's events only.
var route = newRoute(telephony.NewLastAgentMemory(telephony.LastAgentOptions{}))

// decisions records how long each routing decision took and what it was,
// keyed by provider and call id, for the table.
type decisions struct {
	mu sync.Mutex
	m  map[string]decision
}

type decision struct {
	took time.Duration
	to   telephony.Target
	err  error
}

func (d *decisions) wrap(rf telephony.RouteFunc) telephony.RouteFunc {
	return func(ctx context.Context, call telephony.InboundCall) (telephony.Target, error) {
		start := time.Now()
		to, err := rf(ctx, call)
		d.mu.Lock()
		d.m[call.Provider+"/"+call.CallID] = decision{took: time.Since(start), to: to, err: err}
		d.mu.Unlock()
		return to, err
	}
}

// get returns the decision for a call. A routing function that ran out of
// budget returns after the handler has already answered with the fallback,
// so get waits a little for it.
func (d *decisions) get(provider, callID string) (decision, bool) {
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(time.Millisecond) {
		d.mu.Lock()
		v, ok := d.m[provider+"/"+callID]
		d.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return v, ok
		}
	}
}

// callers are the inbound calls of the demonstration.
var callers = []struct{ From, Who string }{
	{"+14155550101", "known customer (Ann's)"},
	{"+14155550102", "known customer (Bob's)"},
	{"+12125550103", "Carol's, not in the CRM"},
	{"+442071838750", "unknown UK caller"},
	{"+33612345678", "unknown caller"},
	{"+14155550199", "customer, CRM too slow"},
}

// row is one line of the result table.
type row struct {
	Provider, Caller, Who, RoutedTo, How string
	// Decision is the RouteFunc's time; Done is the provider's view: the
	// routing answer's latency (Dialpad) or webhook-to-transfer (Aircall).
	Decision, Done time.Duration
}

func main() {
	log.SetFlags(0)
	if live() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	rows, err := simulate(ctx)
	if err != nil {
		log.Fatalf("smartrouting: %v", err)
	}
	printTable(os.Stdout, rows)
	fmt.Printf("\n%d calls routed on 2 providers in %v, against the simulators (set DIALPAD_API_KEY or AIRCALL_API_ID/AIRCALL_API_TOKEN to serve real endpoints).\n",
		len(rows), time.Since(start).Round(time.Millisecond))
}
