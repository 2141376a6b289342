package main

import (
	"context"
	"fmt"
	"time"

	"github.com/switchboard-go/switchboard/telephony/redisstate"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// openStore returns a replica's state store: the shared Redis, or the
// process's own memory. claimIdle is how long the event log waits before
// it presumes a silent replica dead and hands its unacknowledged events to
// another; 0 keeps the log's default (30 s). Every replica gives the same.
func openStore(ctx context.Context, kind, redisURL, prefix string, claimIdle time.Duration) (*state.Store, error) {
	switch kind {
	case "memory":
		return state.Memory(), nil
	case "redis":
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return redisstate.Open(ctx, redisURL, redisstate.Options{
			Prefix: prefix, Replicas: numReplicas,
			Consume: state.ConsumeOptions{ClaimIdle: claimIdle},
		})
	}
	return nil, fmt.Errorf("unknown store %q: want redis or memory", kind)
}
