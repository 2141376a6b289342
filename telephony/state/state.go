// Package state is the seam for what Switchboard remembers between
// requests: account rate windows and the "not before" gate a 429 closes,
// per-endpoint limits, webhook dedupe keys, routing claims and the durable
// event log.
//
// A *Store is a portable type over a small Driver (the gocloud.dev
// pattern). Two implementations exist:
//
//   - Memory (the default, nothing to configure): everything lives in the
//     process, exactly as a single process needs it. Rate windows and the
//     gate stay inside each client's transport, dedupe keys and claims in a
//     bounded map, and events are processed in the background after the
//     provider got its 200, so an event is lost if the process dies (or the
//     EventFunc fails) after answering. Several replicas each spend the whole
//     provider quota and each route a redelivered call.
//   - Redis (package telephony/redisstate): every replica shares one
//     account budget, one gate, one set of dedupe keys and claims, and a
//     Redis Stream makes events durable.
//
// One line makes every client and handler of a process use a store:
//
//	state.SetDefault(st)
//
// A client can also be given its own with telephony.WithState, and a
// handler through its options.
package state

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// Store is the state shared by the clients and handlers that use it. The
// zero value is not usable; build one with Memory, New or a driver
// package's constructor. A Store is safe for concurrent use.
type Store struct {
	d Driver
}

// Driver is what an implementation provides. While the module is at v0 a
// Driver may gain methods (each listed in CHANGELOG.md): a driver written
// outside this module should expect to add them.
//
// Limits and Events may be nil, which means "in this process": Limits nil
// keeps rate windows in each client's transport, Events nil processes
// events in the background of the process that received them (not
// durable). Claims and Values are required.
type Driver interface {
	// Limits returns the shared rate-limit state, or nil.
	Limits() Limits
	// Claims returns the claim store: dedupe keys and routing claims.
	Claims() Claims
	// Events returns the durable event log, or nil.
	Events() EventLog
	// Values returns the value store (small values with a TTL, such as
	// the caller -> last agent memory).
	Values() Values
	// Name names the implementation in logs and errors ("memory", "redis").
	Name() string
	// Close releases the driver's resources.
	Close() error
}

// New returns a Store over d.
func New(d Driver) *Store {
	if d == nil || d.Claims() == nil || d.Values() == nil {
		panic("state: New needs a Driver with Claims and Values")
	}
	return &Store{d: d}
}

// Limits returns the shared rate-limit state, or nil for in-process limits.
func (s *Store) Limits() Limits { return s.d.Limits() }

// Claims returns the claim store.
func (s *Store) Claims() Claims { return s.d.Claims() }

// Events returns the durable event log, or nil when events are processed
// in process (the memory store).
func (s *Store) Events() EventLog { return s.d.Events() }

// LocalShare is the fraction of an account's limits one process may use on
// its own while the shared limits cannot be reached: 1 for the memory
// store, 1/replicas for a shared one (a driver says so with a
// LocalShare() float64 method; otherwise 1/3).
func (s *Store) LocalShare() float64 {
	if s.d.Limits() == nil {
		return 1
	}
	if ls, ok := s.d.(interface{ LocalShare() float64 }); ok {
		if f := ls.LocalShare(); f > 0 && f <= 1 {
			return f
		}
	}
	return 1.0 / 3
}

// Values returns the value store.
func (s *Store) Values() Values { return s.d.Values() }

// Name names the implementation: "memory", "redis".
func (s *Store) Name() string { return s.d.Name() }

// Close releases the store's resources (for Redis, not the client it was
// given).
func (s *Store) Close() error { return s.d.Close() }

var defaultStore atomic.Pointer[Store]

func init() { defaultStore.Store(Memory()) }

// Default returns the process's default store: Memory() unless SetDefault
// was called. Clients and handlers read it when they are built.
func Default() *Store { return defaultStore.Load() }

// SetDefault makes s the store of every client and handler built after it
// (those given their own store keep it). Call it once, at start-up, before
// building clients. A nil s restores a fresh memory store.
func SetDefault(s *Store) {
	if s == nil {
		s = Memory()
	}
	defaultStore.Store(s)
}

// Or returns s, or the default store when s is nil.
func Or(s *Store) *Store {
	if s != nil {
		return s
	}
	return Default()
}

// Key is a fixed-size key: a SHA-256 over its parts. Keys never hold the
// attacker-chosen strings they are made of, so a delivery with a huge id
// costs the store 32 bytes.
type Key [32]byte

// KeyOf hashes parts into a Key. Parts are length-prefixed, so ("ab","c")
// and ("a","bc") differ.
func KeyOf(parts ...string) Key {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var k Key
	h.Sum(k[:0])
	return k
}

// String returns the key in hex.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// Claims records keys for a time: the dedupe of redelivered webhooks and
// the one-transfer-per-call claim of routing.
type Claims interface {
	// Claim records key for ttl and reports whether this call took it:
	// false means it was already held. Atomic across every user of the
	// store.
	Claim(ctx context.Context, key Key, ttl time.Duration) (bool, error)
	// Release forgets key, so that a later Claim takes it again.
	Release(ctx context.Context, key Key) error
}

// Values keeps small values for a time: the caller -> last agent memory of
// routing, for example. Values are opaque bytes; keys are fixed-size.
type Values interface {
	// Set stores value under key for ttl, replacing what was there.
	Set(ctx context.Context, key Key, value []byte, ttl time.Duration) error
	// SetIfAbsent stores value under key for ttl only when key holds
	// nothing (or what it held expired), atomically across every user of
	// the store, and reports whether it stored it. A cache filled by a
	// slow lookup uses it so as not to overwrite a fresher value set
	// while the lookup ran.
	SetIfAbsent(ctx context.Context, key Key, value []byte, ttl time.Duration) (bool, error)
	// Get returns the value under key, and false when there is none (or it
	// expired).
	Get(ctx context.Context, key Key) ([]byte, bool, error)
}

// Window is one documented rate limit of an account: Limit requests per
// Period. A Counted window is a fixed window the provider reports in its
// headers (counted as the provider counts it, corrected by Report); the
// others are smooth (GCRA).
type Window struct {
	Limit   int
	Period  time.Duration
	Counted bool
}

// Report is what one response's rate-limit headers said of one window.
type Report struct {
	Limit        int
	HasLimit     bool
	Remaining    int
	HasRemaining bool
	Reset        time.Time
	HasReset     bool
}

// Limits is the rate-limit state of provider accounts, shared by every
// replica. Accounts are named by an opaque key (a hash of provider, base
// URL and credential: never a secret).
type Limits interface {
	// Admit takes one request from every window of account (and checks
	// its gate), or takes nothing and returns how long to wait before
	// trying again. One atomic step per call.
	Admit(ctx context.Context, account string, windows []Window, now time.Time) (time.Duration, error)
	// Report applies the provider's rate-limit headers to window i.
	Report(ctx context.Context, account string, windows []Window, i int, r Report, now time.Time) error
	// Block closes account's gate until until (a gate already closed
	// later stays closed).
	Block(ctx context.Context, account string, until time.Time) error
	// Take takes a token from the bucket key of family name, a GCRA of
	// burst tokens refilled one per every, or takes nothing and returns
	// the wait after which one will be there.
	Take(ctx context.Context, name, key string, every time.Duration, burst int, now time.Time) (time.Duration, error)
	// Return gives back a token Take granted, because the request it was
	// for provably did nothing.
	Return(ctx context.Context, name, key string, every time.Duration, burst int, now time.Time) error
}

// EventLog is a durable log of verified inbound events, consumed by a
// consumer group: what a handler appends before answering 200 is
// processed at least once by some replica, even if the one that received
// it dies.
type EventLog interface {
	// Append adds payload to stream under key (the event's dedupe key).
	// It returns only once the entry is stored.
	Append(ctx context.Context, stream string, key Key, payload []byte) error
	// Consume runs handle for the entries of stream, as a member of the
	// stream's consumer group, until ctx ends. A nil error acknowledges
	// the entry and marks its key done: a later entry with the same key
	// (a redelivery) is acknowledged without running handle, and no two
	// consumers run one key at once. An error retries the entry later
	// with backoff, and after opts.MaxAttempts tries it goes to the
	// dead-letter stream. Entries a dead consumer held are claimed after
	// opts.ClaimIdle.
	Consume(ctx context.Context, stream string, handle func(ctx context.Context, payload []byte) error, opts ConsumeOptions) error
	// DeadLetters returns up to max dead-lettered entries of stream, oldest
	// first.
	DeadLetters(ctx context.Context, stream string, max int) ([]DeadLetter, error)
	// Replay moves a dead-lettered entry back onto its stream.
	Replay(ctx context.Context, stream, id string) error
}

// ConsumeOptions tune EventLog.Consume. Zero values take the defaults.
type ConsumeOptions struct {
	// Consumer names this consumer in the group; default: a random name.
	Consumer string
	// MaxAttempts is how many times an entry is tried before it is
	// dead-lettered; default 5.
	MaxAttempts int
	// RetryBackoff is the first wait before a failed entry is tried again;
	// it doubles each try, up to 32 times the first. Default 1s.
	RetryBackoff time.Duration
	// ClaimIdle is how long an entry may stay unacknowledged before another
	// consumer claims it (its consumer is presumed dead); default 30s.
	ClaimIdle time.Duration
	// Concurrency is how many entries run at once in this consumer;
	// default 16.
	Concurrency int
	// OnError is told of each failed attempt, each dead-lettered entry and
	// each failure to reach the log.
	OnError func(ctx context.Context, err error)
}

// DeadLetter is an event that failed every attempt.
type DeadLetter struct {
	ID       string // its id in the dead-letter stream, for Replay
	Key      Key
	Payload  []byte
	Attempts int
	Err      string // the last attempt's error
}
