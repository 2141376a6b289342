package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// What the orchestrator and the replicas agree on.
const (
	numReplicas = 3
	victim      = numReplicas - 1 // the replica that is killed (0-based)

	routerSecret  = "replicas-router-secret-0123456789abcdef"  // the Dialpad call router's
	dialpadSecret = "replicas-webhook-secret-0123456789abcdef" // the Dialpad event webhook's
	aircallToken  = "replicas-aircall-webhook-token"           // both Aircall webhooks'

	dialpadNumber  = "+14155550000" // the Dialpad router's number
	aircallNumber  = "+14155550001" // the Aircall company line
	fallbackCenter = 9000           // the Dialpad router's default target, a call center

	// defaultClaimIdle is how long, by default here, the event log waits
	// before it presumes a silent replica dead and hands its
	// unacknowledged events to another (-claim-idle).
	defaultClaimIdle = 2 * time.Second
	// libraryClaimIdle is the event log's own default
	// (state.ConsumeOptions.ClaimIdle), used with -claim-idle=0.
	libraryClaimIdle = 30 * time.Second
	// eventTimeout bounds one EventFunc call: the stalled replica's stall
	// lasts until it is killed, well before this.
	eventTimeout = 20 * time.Second
	// dialWait is how long a click-to-call request may wait for a slot of
	// the provider's rate limit before it is refused (429 to the caller,
	// nothing sent to the provider).
	dialWait = 4 * time.Second
	// routeTimeout bounds the Aircall routing of one call.
	routeTimeout = 5 * time.Second
)

// Environment of a replica process, set by the orchestrator.
const (
	envIndex    = "REPLICAS_INDEX"        // 0, 1, 2
	envStore    = "REPLICAS_STORE"        // redis or memory
	envRedis    = "SWITCHBOARD_REDIS_URL" // the shared Redis (redis store)
	envPrefix   = "REPLICAS_REDIS_PREFIX" // this run's key prefix in it
	envIdle     = "REPLICAS_CLAIM_IDLE"   // the event log's ClaimIdle (0: its default)
	envJustCall = "REPLICAS_JUSTCALL_URL" // the providers' base URLs...
	envDialpad  = "REPLICAS_DIALPAD_URL"  // ...each through a meter
	envAircall  = "REPLICAS_AIRCALL_URL"
	envLedger   = "REPLICAS_LEDGER_URL"   // where processed events are recorded
	envStall    = "REPLICAS_STALL_EVENTS" // "1": this replica's event processing hangs
	envVerbose  = "REPLICAS_VERBOSE"      // "1": log warnings to stderr
	readyPrefix = "replica listening on " // the first line a replica prints
)

// agents work at both Dialpad and Aircall, under the same emails.
var agents = []struct{ First, Last, Email string }{
	{"Ann", "Lee", "ann@example.com"},
	{"Bob", "Stone", "bob@example.com"},
	{"Carol", "Diaz", "carol@example.com"},
}

// callerNumber is inbound caller i; customerNumber is the customer of
// click-to-call i.
func callerNumber(i int) string   { return fmt.Sprintf("+1415555%04d", 2000+i) }
func customerNumber(i int) string { return fmt.Sprintf("+1212555%04d", 3000+i) }

// lastAgent is the CRM of the demonstration: caller i last spoke to agent
// i mod 3. Unknown numbers get "" (the routing handlers then fall back).
func lastAgent(_ context.Context, caller string) (string, error) {
	if len(caller) < 4 {
		return "", nil
	}
	n, err := strconv.Atoi(caller[len(caller)-4:])
	if err != nil || n < 2000 || caller != callerNumber(n-2000) {
		return "", nil
	}
	return agents[(n-2000)%len(agents)].Email, nil
}

// eventKey names one event in the ledger: each call has each event type
// once in this load.
func eventKey(provider, callID, typ string) string { return provider + "/" + callID + "/" + typ }
