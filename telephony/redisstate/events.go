package redisstate

import (
	"context"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// eventLog implements state.EventLog on Redis Streams. (To be written.)
type eventLog struct {
	c      redis.UniversalClient
	prefix string
}

func newEventLog(c redis.UniversalClient, prefix string) *eventLog {
	return &eventLog{c: c, prefix: prefix}
}

func (e *eventLog) Append(ctx context.Context, stream string, key state.Key, payload []byte) error {
	return errTODO
}
func (e *eventLog) Consume(ctx context.Context, stream string, handle func(context.Context, []byte) error, opts state.ConsumeOptions) error {
	return errTODO
}
func (e *eventLog) DeadLetters(ctx context.Context, stream string, max int) ([]state.DeadLetter, error) {
	return nil, errTODO
}
func (e *eventLog) Replay(ctx context.Context, stream, id string) error { return errTODO }
