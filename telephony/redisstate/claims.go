package redisstate

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// claims implements state.Claims with SET NX PX and DEL. (To be written.)
type claims struct {
	c      redis.UniversalClient
	prefix string
}

func newClaims(c redis.UniversalClient, prefix string) *claims { return &claims{c: c, prefix: prefix} }

func (c *claims) Claim(ctx context.Context, key state.Key, ttl time.Duration) (bool, error) {
	return false, errTODO
}
func (c *claims) Release(ctx context.Context, key state.Key) error { return errTODO }
