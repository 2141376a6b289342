package redisstate

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// values implements state.Values with SET PX, SET NX PX and GET.
type values struct {
	c      redis.UniversalClient
	prefix string
}

func newValues(c redis.UniversalClient, prefix string) *values { return &values{c: c, prefix: prefix} }

func (v *values) key(k state.Key) string { return v.prefix + "value:" + k.String() }

func (v *values) Set(ctx context.Context, key state.Key, value []byte, ttl time.Duration) error {
	if err := v.c.Set(ctx, v.key(key), value, max(ttl, time.Millisecond)).Err(); err != nil {
		return limitsErr("set value", err)
	}
	return nil
}

func (v *values) SetIfAbsent(ctx context.Context, key state.Key, value []byte, ttl time.Duration) (bool, error) {
	// SET NX PX: atomic, so a fresher value set meanwhile is kept.
	err := v.c.SetArgs(ctx, v.key(key), value, redis.SetArgs{Mode: "NX", TTL: max(ttl, time.Millisecond)}).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, limitsErr("set value if absent", err)
	}
	return true, nil
}

func (v *values) Get(ctx context.Context, key state.Key) ([]byte, bool, error) {
	b, err := v.c.Get(ctx, v.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, limitsErr("get value", err)
	}
	return b, true, nil
}
