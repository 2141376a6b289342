// Command replicas runs one small Switchboard backend as three replica
// processes and shows what sharing one Redis through the state seam
// (package telephony/redisstate) does that three separate memories cannot.
//
// The backend serves click-to-call (POST /dial, JustCall and Dialpad),
// Dialpad's call-router endpoint, the Aircall webhook that routes each
// inbound call, and the Aircall and Dialpad event webhooks. Against the
// JustCall, Dialpad and Aircall simulators, the program:
//
//   - starts the three replicas (this binary again, with -replica) behind
//     a round-robin load balancer, sharing one Redis: SWITCHBOARD_REDIS_URL,
//     or a redis-server it starts when one is on PATH;
//   - drives a mixed load for a few seconds: click-to-calls asking for 3x
//     the accounts' quotas (JustCall's 30 per minute, Dialpad's 5 per minute
//     per agent), inbound Dialpad calls, and inbound Aircall calls whose
//     call.created is delivered to all three replicas, as a redelivery
//     landing on every replica would be;
//   - makes the third replica's event processing hang, and kills it with
//     SIGKILL while it holds events it has not acknowledged;
//   - waits for the survivors to take those events over, and prints what
//     each phase did.
//
// Its last line reads
//
//	replicas: 3 processes, C calls; transfers per call max=T; provider 429s=N; events lost=L; events processed twice=D
//
// where C counts the calls the load asked for (click-to-calls, refused
// ones included, and inbound calls), T is the most transfers any Aircall
// call got, N the 429s the providers answered, L the events a replica
// answered 200 for that nobody processed, and D the events processed more
// than once. It exits with status 1 when T > 1 or L > 0:
//
//	go run ./examples/replicas                # shared Redis: T=1, N=0, L=0, D=0
//	go run ./examples/replicas -store memory  # each replica alone: see what breaks
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config is what the flags say.
type config struct {
	Store     string        // redis or memory
	ClaimIdle time.Duration // the event log's ClaimIdle; 0: the library's default
	Verbose   bool          // the replicas' warnings go to stderr
}

func main() {
	log.SetFlags(0)
	var cfg config
	replica := flag.Bool("replica", false, "run as one replica of the backend (the orchestrator starts them)")
	flag.StringVar(&cfg.Store, "store", "redis",
		"redis: the replicas share one Redis (SWITCHBOARD_REDIS_URL, or a redis-server started from PATH); memory: each keeps its state to itself")
	flag.DurationVar(&cfg.ClaimIdle, "claim-idle", defaultClaimIdle,
		"how long a dead replica's unacknowledged events wait before a survivor claims them; 0: the library's default (30s)")
	flag.BoolVar(&cfg.Verbose, "v", false, "show the replicas' warnings on stderr")
	flag.Parse()
	if *replica {
		if err := runReplica(); err != nil {
			log.Fatalf("replica %s: %v", os.Getenv(envIndex), err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	res, err := run(ctx, cfg, os.Stdout)
	stop()
	if err != nil {
		log.Fatalf("replicas: %v", err)
	}
	fmt.Println(res.line())
	if !res.ok() {
		os.Exit(1)
	}
}
