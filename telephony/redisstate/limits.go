package redisstate

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// limits implements state.Limits with Lua scripts: one round trip per
// admission. (To be written.)
type limits struct {
	c      redis.UniversalClient
	prefix string
}

func newLimits(c redis.UniversalClient, prefix string) *limits { return &limits{c: c, prefix: prefix} }

var errTODO = errors.New("redisstate: not implemented")

func (l *limits) Admit(ctx context.Context, account string, windows []state.Window, now time.Time) (time.Duration, error) {
	return 0, errTODO
}
func (l *limits) Report(ctx context.Context, account string, windows []state.Window, i int, r state.Report, now time.Time) error {
	return errTODO
}
func (l *limits) Block(ctx context.Context, account string, until time.Time) error { return errTODO }
func (l *limits) Take(ctx context.Context, name, key string, every time.Duration, burst int, now time.Time) (time.Duration, error) {
	return 0, errTODO
}
func (l *limits) Return(ctx context.Context, name, key string, every time.Duration, burst int, now time.Time) error {
	return errTODO
}
