package redisstate

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// claims implements state.Claims: a claim is the key prefix+"claim:"+<key
// in hex>, set with SET NX PX (one atomic round trip, so exactly one
// caller across every replica takes it) and forgotten with DEL or when its
// TTL ends.
type claims struct {
	c      redis.UniversalClient
	prefix string
}

func newClaims(c redis.UniversalClient, prefix string) *claims { return &claims{c: c, prefix: prefix} }

func (c *claims) key(k state.Key) string { return c.prefix + "claim:" + k.String() }

// Claim takes key for ttl, rounded up to whole milliseconds (at least
// one: Redis keeps nothing for less, and a claim without a TTL would never
// be forgotten).
func (c *claims) Claim(ctx context.Context, key state.Key, ttl time.Duration) (bool, error) {
	ttl = max((ttl + time.Millisecond - 1).Truncate(time.Millisecond), time.Millisecond)
	ok, err := c.c.SetNX(ctx, c.key(key), "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redisstate: claim: %w", err)
	}
	return ok, nil
}

// Release forgets key.
func (c *claims) Release(ctx context.Context, key state.Key) error {
	if err := c.c.Del(ctx, c.key(key)).Err(); err != nil {
		return fmt.Errorf("redisstate: release: %w", err)
	}
	return nil
}
