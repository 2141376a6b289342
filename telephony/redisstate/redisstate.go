package redisstate

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// DefaultPrefix starts every key this package writes.
const DefaultPrefix = "switchboard:"

// Options configure a Redis store. The zero value is usable.
type Options struct {
	// Prefix starts every key; default DefaultPrefix. Give each deployment
	// sharing one Redis its own.
	Prefix string
	// Replicas is how many processes share the store. While Redis cannot
	// be reached each process falls back to 1/Replicas of an account's
	// limits on its own. Default 3.
	Replicas int
	// Consume sets, for every durable event stream of the store, what the
	// handlers leave at zero: MaxAttempts (5), RetryBackoff (1s),
	// ClaimIdle (30s: how long a dead replica's events wait before
	// another takes them), Concurrency (16). Give every replica the same.
	Consume state.ConsumeOptions
}

// New returns a store on c, which the caller keeps and closes. Every
// replica of a backend gives the same Redis (and Prefix) to share its state.
func New(c redis.UniversalClient, opts Options) (*state.Store, error) {
	if c == nil {
		return nil, errors.New("redisstate: New needs a Redis client")
	}
	return state.New(newDriver(c, opts, false)), nil
}

func newDriver(c redis.UniversalClient, opts Options, owned bool) *driver {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Replicas < 1 {
		opts.Replicas = 3
	}
	d := &driver{c: c, prefix: opts.Prefix, owned: owned, replicas: opts.Replicas}
	d.limits = newLimits(c, opts.Prefix)
	d.claims = newClaims(c, opts.Prefix)
	d.events = newEventLog(c, opts.Prefix, opts.Consume)
	d.values = newValues(c, opts.Prefix)
	return d
}

// Open connects to the Redis a URL names (redis://host:port/db, rediss://
// for TLS), checks it answers, and returns a store whose Close also closes
// the connection.
func Open(ctx context.Context, rawURL string, opts Options) (*state.Store, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		// The URL may hold a password: never repeat it.
		return nil, errors.New("redisstate: the Redis URL does not parse (redis://[user:password@]host:port[/db])")
	}
	c := redis.NewClient(o)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, errors.New("redisstate: Redis at " + o.Addr + " does not answer: " + err.Error())
	}
	return state.New(newDriver(c, opts, true)), nil
}

type driver struct {
	c        redis.UniversalClient
	prefix   string
	owned    bool // Close closes c
	replicas int
	limits   *limits
	claims   *claims
	events   *eventLog
	values   *values
}

func (d *driver) Limits() state.Limits   { return d.limits }
func (d *driver) Claims() state.Claims   { return d.claims }
func (d *driver) Events() state.EventLog { return d.events }
func (d *driver) Values() state.Values   { return d.values }
func (d *driver) Name() string           { return "redis" }

// LocalShare tells the transport how much of a limit one process may use
// alone while Redis is down.
func (d *driver) LocalShare() float64 { return 1 / float64(d.replicas) }
func (d *driver) Close() error {
	if d.owned {
		return d.c.Close()
	}
	return nil
}
