package redisstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// eventLog implements state.EventLog on Redis Streams with one consumer
// group per stream.
//
// The keys of a stream s (P is the store's prefix) all carry the hash tag
// {s}, so that they share one Redis Cluster slot and the Lua scripts below
// may touch them together:
//
//	P events:{s}                the stream: fields k (the event key in hex), p (payload)
//	P events:{s}:lock:<key>     a running handle of key (SET NX PX, kept alive while it runs)
//	P events:{s}:done:<key>     key was processed (24 h): a redelivery is acknowledged unrun
//	P events:{s}:try:<entry id> failed attempts of an entry: n, and the last error e
//	P dead:{s}                  the dead-letter stream: k, p, n (attempts), e (last error), id
//
// The consumer group is named "switchboard".
type eventLog struct {
	c        redis.UniversalClient
	prefix   string
	defaults state.ConsumeOptions // Options.Consume: what a zero field of Consume's options takes
}

func newEventLog(c redis.UniversalClient, prefix string, defaults state.ConsumeOptions) *eventLog {
	return &eventLog{c: c, prefix: prefix, defaults: defaults}
}

const (
	// groupName is the consumer group of every stream.
	groupName = "switchboard"
	// maxStreamLen bounds a stream's backlog (settled entries are deleted):
	// a full stream refuses new events, which the handler then answers 503
	// or processes in process, logged. The dead-letter stream is trimmed
	// (MAXLEN ~) past it, oldest first.
	maxStreamLen = 1_000_000
	// doneTTL is how long a processed key is remembered: a redelivery later
	// than that is processed again.
	doneTTL = 24 * time.Hour
	// tryTTL is how long the attempt count of a failing entry is kept after
	// its last failure.
	tryTTL = 7 * 24 * time.Hour
	// readBlock is how long one XREADGROUP waits for new entries; a
	// cancelled Consume returns within about that long.
	readBlock = 250 * time.Millisecond
	// maxErrLen bounds the error text kept with a dead letter.
	maxErrLen = 4096
	// cleanupTimeout bounds the Redis calls that settle an entry once its
	// handle returned (run even when Consume's context has ended).
	cleanupTimeout = 5 * time.Second
)

// Defaults of state.ConsumeOptions.
const (
	defaultMaxAttempts  = 5
	defaultRetryBackoff = time.Second
	defaultClaimIdle    = 30 * time.Second
	defaultConcurrency  = 16
)

// ErrNoDeadLetter is returned by Replay when the stream has no dead letter
// with the id given (it was replayed already, or never existed).
var ErrNoDeadLetter = errors.New("redisstate: no such dead letter")

func (e *eventLog) streamKey(stream string) string { return e.prefix + "events:{" + stream + "}" }
func (e *eventLog) deadKey(stream string) string   { return e.prefix + "dead:{" + stream + "}" }

// Append adds payload to stream under key with XADD (MAXLEN ~ 1,000,000).
// It returns once Redis has answered, that is once the entry is in Redis's
// memory: whether it survives a crash of Redis itself depends on how Redis
// persists and replicates (appendonly, replicas).
func (e *eventLog) Append(ctx context.Context, stream string, key state.Key, payload []byte) error {
	n, err := appendScript.Run(ctx, e.c, []string{e.streamKey(stream)}, maxStreamLen, key.String(), payload).Int64()
	if err != nil {
		return fmt.Errorf("redisstate: appending to stream %q: %w", stream, err)
	}
	if n < 0 {
		return fmt.Errorf("redisstate: stream %q holds %d events not yet processed: refusing more rather than dropping any (is a consumer running?)", stream, maxStreamLen)
	}
	return nil
}

// appendScript adds an entry unless the stream is full. Processed entries
// are deleted (XDEL) when they are settled, so the length is the backlog:
// a full stream refuses (-1) instead of trimming entries nobody processed.
// KEYS: stream. ARGV: max length, key, payload.
var appendScript = redis.NewScript(`
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end
redis.call('XADD', KEYS[1], '*', 'k', ARGV[2], 'p', ARGV[3])
return 1
`)

// DeadLetters returns up to max dead-lettered entries of stream, oldest
// first (XRANGE of its dead-letter stream). A max below 1 returns none.
func (e *eventLog) DeadLetters(ctx context.Context, stream string, max int) ([]state.DeadLetter, error) {
	if max < 1 {
		return nil, nil
	}
	msgs, err := e.c.XRangeN(ctx, e.deadKey(stream), "-", "+", int64(max)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstate: reading the dead letters of stream %q: %w", stream, err)
	}
	out := make([]state.DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		d := state.DeadLetter{ID: m.ID}
		d.Key, _ = parseKey(str(m.Values["k"]))
		d.Payload = []byte(str(m.Values["p"]))
		d.Attempts, _ = strconv.Atoi(str(m.Values["n"]))
		d.Err = str(m.Values["e"])
		out = append(out, d)
	}
	return out, nil
}

// replayScript moves dead letter ARGV[1] of KEYS[2] back onto stream
// KEYS[1] (a new entry, same key and payload), in one step.
var replayScript = redis.NewScript(`
local e = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #e == 0 then return false end
local f = e[1][2]
local k, p = '', ''
for i = 1, #f, 2 do
  if f[i] == 'k' then k = f[i+1] elseif f[i] == 'p' then p = f[i+1] end
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'k', k, 'p', p)
redis.call('XDEL', KEYS[2], ARGV[1])
return id
`)

// Replay moves dead letter id of stream back onto the stream, atomically
// (one Lua script: XADD to the stream, XDEL from the dead-letter stream).
// The entry comes back with its key and payload and a fresh attempt count.
// It returns ErrNoDeadLetter if there is no such dead letter.
func (e *eventLog) Replay(ctx context.Context, stream, id string) error {
	err := replayScript.Run(ctx, e.c, []string{e.streamKey(stream), e.deadKey(stream)}, id, maxStreamLen).Err()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("%w: %q in stream %q", ErrNoDeadLetter, id, stream)
	}
	if err != nil {
		return fmt.Errorf("redisstate: replaying dead letter %q of stream %q: %w", id, stream, err)
	}
	return nil
}

// Consume runs handle for the entries of stream as a member of its
// consumer group, until ctx ends; it then waits for the handles it started
// to return and returns nil. It returns an error only when called wrongly
// (a nil handle): a failure to reach Redis never ends it. Such failures go
// to opts.OnError and are retried with a backoff of 100 ms doubling to 2 s,
// so Consume survives a restart of Redis, recreating the group (and stream)
// if they vanished.
//
// The group is created at the start of the stream ("0", not "$"), so the
// entries appended before the first consumer ever started are processed.
// Each key is run by one handle at a time across the group (unless Redis
// was out of reach for longer than opts.ClaimIdle): a lock on it is taken
// first, and a key already done (by a previous entry with the
// same key, within 24 h) is acknowledged without running handle. Each
// handle gets a context derived from ctx; while it runs, its lock and its
// claim on the entry are kept alive (every opts.ClaimIdle/3), so another
// consumer takes over only an entry whose consumer has been silent for
// opts.ClaimIdle. Give every consumer of a stream the same ClaimIdle.
//
// A failed handle (an error, or a panic, which is recovered) leaves the
// entry pending; it is tried again opts.RetryBackoff after the first
// failure, twice that after the second, and so on up to 32 times
// RetryBackoff, and after opts.MaxAttempts failures it is moved to the
// dead-letter stream (see DeadLetters and Replay). A handle that fails
// because ctx ended is not counted as an attempt: its entry is handed back
// for another consumer to take at once. Once ctx has ended, the handles
// still running are no longer kept alive, so their entries may be taken
// over after ClaimIdle. opts.OnError, which may be called from several
// goroutines at once, is told of every failed attempt, every dead letter
// and every Redis error.
func (e *eventLog) Consume(ctx context.Context, stream string, handle func(context.Context, []byte) error, opts state.ConsumeOptions) error {
	if handle == nil {
		return errors.New("redisstate: Consume needs a handle func")
	}
	d := e.defaults
	opts.MaxAttempts = firstPositive(opts.MaxAttempts, d.MaxAttempts, defaultMaxAttempts)
	opts.RetryBackoff = firstPositive(opts.RetryBackoff, d.RetryBackoff, defaultRetryBackoff)
	opts.ClaimIdle = firstPositive(opts.ClaimIdle, d.ClaimIdle, defaultClaimIdle)
	opts.Concurrency = firstPositive(opts.Concurrency, d.Concurrency, defaultConcurrency)
	if opts.Consumer == "" {
		opts.Consumer = "c-" + randomHex(8)
	}
	c := &consumer{
		e:        e,
		stream:   stream,
		key:      e.streamKey(stream),
		dead:     e.deadKey(stream),
		handle:   handle,
		opts:     opts,
		sem:      make(chan struct{}, opts.Concurrency),
		inflight: map[string]struct{}{},
	}
	c.run(ctx)
	return nil
}

// consumer is one running Consume.
type consumer struct {
	e      *eventLog
	stream string // as the caller named it
	key    string // the stream's Redis key
	dead   string // the dead-letter stream's Redis key
	handle func(context.Context, []byte) error
	opts   state.ConsumeOptions

	sem chan struct{} // one token per running handle
	wg  sync.WaitGroup

	mu       sync.Mutex
	inflight map[string]struct{} // entry ids this consumer is running or about to
}

func (c *consumer) run(ctx context.Context) {
	var loops sync.WaitGroup
	loops.Add(2)
	go func() { defer loops.Done(); c.readLoop(ctx) }()
	go func() { defer loops.Done(); c.claimLoop(ctx) }()
	loops.Wait()
	c.wg.Wait()
	// Leave the group if nothing is left pending under this consumer's
	// name, so that random names do not pile up in XINFO CONSUMERS.
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	_ = leaveScript.Run(cctx, c.e.c, []string{c.key}, groupName, c.opts.Consumer).Err()
}

func (c *consumer) onError(ctx context.Context, err error) {
	if c.opts.OnError != nil {
		c.opts.OnError(ctx, err)
	}
}

// redisError reports a failure to reach the log.
func (c *consumer) redisError(ctx context.Context, what string, err error) {
	c.onError(ctx, fmt.Errorf("redisstate: stream %q: %s: %w", c.stream, what, err))
}

// createGroup creates the group at the start of the stream (creating the
// stream if need be). A group that exists already is fine.
func (c *consumer) createGroup(ctx context.Context) error {
	err := c.e.c.XGroupCreateMkStream(ctx, c.key, groupName, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return nil
}

func isNoGroup(err error) bool { return err != nil && strings.Contains(err.Error(), "NOGROUP") }

// backoff is the wait after consecutive Redis failures: 100 ms doubling
// to 2 s.
type backoff struct{ d time.Duration }

func (b *backoff) reset() { b.d = 0 }

func (b *backoff) wait(ctx context.Context) {
	switch {
	case b.d == 0:
		b.d = 100 * time.Millisecond
	case b.d < 2*time.Second:
		b.d = min(2*b.d, 2*time.Second)
	}
	sleep(ctx, b.d)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// readLoop reads new entries (XREADGROUP >) and runs them.
func (c *consumer) readLoop(ctx context.Context) {
	var bo backoff
	needGroup, created := true, false
	for ctx.Err() == nil {
		if needGroup {
			if err := c.createGroup(ctx); err != nil {
				if ctx.Err() == nil {
					c.redisError(ctx, "creating the consumer group", err)
					bo.wait(ctx)
				}
				continue
			}
			needGroup, created = false, true
			bo.reset()
		}
		// Wait for a free slot, without holding it through the blocking
		// read, so that retries (claimLoop) are not held up by it.
		select {
		case c.sem <- struct{}{}:
			<-c.sem
		case <-ctx.Done():
			return
		}
		count := max(cap(c.sem)-len(c.sem), 1)
		res, err := c.e.c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group:    groupName,
			Consumer: c.opts.Consumer,
			Streams:  []string{c.key, ">"},
			Count:    int64(count),
			Block:    readBlock,
		}).Result()
		if errors.Is(err, redis.Nil) { // nothing new within readBlock
			bo.reset()
			created = false
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.redisError(ctx, "reading", err)
			if isNoGroup(err) && !created {
				// The group vanished (Redis restarted empty, or it was
				// deleted): recreate it at once. Only a group gone again
				// right after its creation waits.
				needGroup = true
				continue
			}
			needGroup = isNoGroup(err)
			created = false
			bo.wait(ctx)
			continue
		}
		bo.reset()
		created = false
		for _, s := range res {
			for i, m := range s.Messages {
				if !c.mark(m.ID) {
					continue // the claim loop took it first
				}
				select {
				case c.sem <- struct{}{}:
					c.start(ctx, m)
				case <-ctx.Done():
					c.unmark(m.ID)
					c.handBack(ctx, s.Messages[i:])
					return
				}
			}
		}
	}
}

// claimLoop takes over the pending entries that are due: this consumer's
// own failed entries once their backoff has passed, and any consumer's
// once they have been idle for ClaimIdle as well (their consumer is
// presumed dead).
func (c *consumer) claimLoop(ctx context.Context) {
	minIdle := min(c.opts.RetryBackoff, c.opts.ClaimIdle)
	tick := min(max(minIdle/2, 10*time.Millisecond), time.Second)
	var bo backoff
	for {
		sleep(ctx, tick)
		if ctx.Err() != nil {
			return
		}
		if err := c.claimDue(ctx, minIdle); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.redisError(ctx, "claiming pending entries", err)
			bo.wait(ctx)
			continue
		}
		bo.reset()
	}
}

// claimPage is how many pending entries one XPENDING call looks at; a pass
// looks at up to claimPages of them.
const (
	claimPage  = 100
	claimPages = 10
)

func (c *consumer) claimDue(ctx context.Context, minIdle time.Duration) error {
	// Take the free slots now; what is not used goes back at the end.
	slots := 0
take:
	for slots < cap(c.sem) {
		select {
		case c.sem <- struct{}{}:
			slots++
		default:
			break take
		}
	}
	defer func() {
		for ; slots > 0; slots-- {
			<-c.sem
		}
	}()
	if slots == 0 {
		return nil
	}
	start := "-"
	for page := 0; page < claimPages && slots > 0; page++ {
		pend, err := c.e.c.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: c.key, Group: groupName, Idle: minIdle,
			Start: start, End: "+", Count: claimPage,
		}).Result()
		if isNoGroup(err) {
			return nil // readLoop recreates it
		}
		if err != nil {
			return err
		}
		if len(pend) == 0 {
			return nil
		}
		start = "(" + pend[len(pend)-1].ID

		// Attempts so far of each candidate.
		var cands []redis.XPendingExt
		for _, p := range pend {
			if !c.running(p.ID) {
				cands = append(cands, p)
			}
		}
		tries := make([]*redis.StringCmd, len(cands))
		if len(cands) > 0 {
			pipe := c.e.c.Pipeline()
			for i, p := range cands {
				tries[i] = pipe.HGet(ctx, c.tryKey(p.ID), "n")
			}
			if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
		}

		// Claim the due ones, each with its own minimum idle time, so an
		// entry another consumer took meanwhile is left alone.
		var claims []*redis.XMessageSliceCmd
		pipe := c.e.c.Pipeline()
		for i, p := range cands {
			if len(claims) == slots {
				break
			}
			n, _ := tries[i].Int()
			due := retryAfter(c.opts.RetryBackoff, n)
			if p.Consumer != c.opts.Consumer {
				due = max(due, c.opts.ClaimIdle)
			}
			if p.Idle < due {
				continue
			}
			claims = append(claims, pipe.XClaim(ctx, &redis.XClaimArgs{
				Stream: c.key, Group: groupName, Consumer: c.opts.Consumer,
				MinIdle: due, Messages: []string{p.ID},
			}))
		}
		if len(claims) > 0 {
			if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
		}
		for _, cmd := range claims {
			for _, m := range cmd.Val() {
				if slots == 0 || !c.mark(m.ID) {
					continue
				}
				slots-- // the slot goes with the entry
				c.start(ctx, m)
			}
		}
		if len(pend) < claimPage {
			return nil
		}
	}
	return nil
}

// retryAfter is the backoff of an entry that failed n times: RetryBackoff
// after the first failure (and when it could not be run at all), doubling
// with each further one, up to 32 times.
func retryAfter(base time.Duration, n int) time.Duration {
	if n <= 1 {
		return base
	}
	return base << min(n-1, 5)
}

func (c *consumer) tryKey(id string) string       { return c.key + ":try:" + id }
func (c *consumer) lockKey(k string) string       { return c.key + ":lock:" + k }
func (c *consumer) doneKey(k string) string       { return c.key + ":done:" + k }
func (c *consumer) lockTTL() int64                { return max(c.opts.ClaimIdle.Milliseconds(), 1) }
func (c *consumer) heartbeatEvery() time.Duration { return max(c.opts.ClaimIdle/3, time.Millisecond) }

// mark records that this consumer is about to run entry id, and reports
// whether it was not already.
func (c *consumer) mark(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.inflight[id]; ok {
		return false
	}
	c.inflight[id] = struct{}{}
	return true
}

func (c *consumer) unmark(id string) {
	c.mu.Lock()
	delete(c.inflight, id)
	c.mu.Unlock()
}

func (c *consumer) running(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.inflight[id]
	return ok
}

// start runs entry m in a goroutine that owns one slot of c.sem and the
// mark of m.ID.
func (c *consumer) start(ctx context.Context, m redis.XMessage) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() { <-c.sem }()
		defer c.unmark(m.ID)
		c.process(ctx, m)
	}()
}

// beginScript takes an entry: if its key is done it is acknowledged (2);
// otherwise the key's lock is taken (1) or found held (0).
// KEYS: lock, done, try, stream. ARGV: token, lock ms, group, id.
var beginScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('XACK', KEYS[4], ARGV[3], ARGV[4])
  redis.call('XDEL', KEYS[4], ARGV[4])
  redis.call('DEL', KEYS[3])
  return 2
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
`)

// heartbeatScript keeps a running entry's lock and claim alive: the lock's
// TTL is renewed (if still ours: 1, else 0) and the entry's idle time is
// reset (XCLAIM JUSTID, which does not count a delivery).
// KEYS: lock, stream. ARGV: token, lock ms, group, consumer, id.
var heartbeatScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- the entry's claim is renewed only while the lock is ours: a lost lock
  -- must not pull the entry back from the consumer now running it
  redis.call('XCLAIM', KEYS[2], ARGV[3], ARGV[4], 0, ARGV[5], 'JUSTID')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// doneScript settles a processed entry: the key is marked done, the entry
// acknowledged, its attempt count dropped and the lock released if ours.
// KEYS: lock, done, try, stream. ARGV: token, done ms, group, id.
var doneScript = redis.NewScript(`
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('XACK', KEYS[4], ARGV[3], ARGV[4])
redis.call('XDEL', KEYS[4], ARGV[4])
redis.call('DEL', KEYS[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// failScript counts a failed attempt, if the lock is still ours (an entry
// whose lock expired is being run by someone else, or will be: the attempt
// is not counted, {-1, 0}). Below the maximum the entry stays pending and
// its idle time restarts, so the backoff counts from now ({n, 0}); at it
// (or when ARGV[11] is 1: the entry is malformed) it moves to the
// dead-letter stream and is acknowledged ({n, 1}).
// KEYS: lock, try, stream, dead. ARGV: token, group, id, consumer,
// max attempts, error, key, payload, try ms, maxlen, force.
var failScript = redis.NewScript(`
local force = ARGV[11] == '1'
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
elseif not force then
  return {-1, 0}
end
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
if force or n >= tonumber(ARGV[5]) then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[10], '*',
    'k', ARGV[7], 'p', ARGV[8], 'n', n, 'e', ARGV[6], 'id', ARGV[3])
  redis.call('XACK', KEYS[3], ARGV[2], ARGV[3])
  redis.call('XDEL', KEYS[3], ARGV[3])
  redis.call('DEL', KEYS[2])
  return {n, 1}
end
redis.call('HSET', KEYS[2], 'e', ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[9])
redis.call('XCLAIM', KEYS[3], ARGV[2], ARGV[4], 0, ARGV[3], 'JUSTID')
return {n, 0}
`)

// releaseScript drops the lock if still ours and sets the entry's idle
// time to ARGV[5] ms, so that another consumer claims it without waiting.
// KEYS: lock, stream. ARGV: token, group, consumer, id, idle ms.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('XCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, ARGV[4], 'IDLE', ARGV[5], 'JUSTID')
return 1
`)

// leaveScript deletes consumer ARGV[2] from group ARGV[1] if it has
// nothing pending (XGROUP DELCONSUMER would drop its pending entries).
var leaveScript = redis.NewScript(`
local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p == 0 then redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) end
return 1
`)

// process runs one entry.
func (c *consumer) process(ctx context.Context, m redis.XMessage) {
	hexKey := str(m.Values["k"])
	_, kerr := parseKey(hexKey)
	payload, pok := m.Values["p"].(string)
	if kerr != nil || !pok {
		c.fail(ctx, m, "", hexKey, payload, errors.New("malformed entry: it needs a key k (64 hex digits) and a payload p"), true)
		return
	}
	if ctx.Err() != nil {
		c.handBack(ctx, []redis.XMessage{m})
		return
	}
	token := randomHex(16)
	lock := c.lockKey(hexKey)
	r, err := beginScript.Run(ctx, c.e.c, []string{lock, c.doneKey(hexKey), c.tryKey(m.ID), c.key},
		token, c.lockTTL(), groupName, m.ID).Int()
	if err != nil {
		// The entry stays pending; the claim loop retries it.
		if ctx.Err() == nil {
			c.redisError(ctx, "starting entry "+m.ID, err)
		}
		return
	}
	if r != 1 {
		// 2: a redelivery of a processed key, acknowledged. 0: another
		// consumer runs the key now; the entry stays pending and is
		// retried after RetryBackoff, by when the key is likely done.
		return
	}

	hctx, stopHeartbeat := context.WithCancel(ctx)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		c.heartbeat(hctx, lock, token, m.ID)
	}()
	herr := c.call(ctx, []byte(payload))
	stopHeartbeat()
	<-hbDone

	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	switch {
	case herr == nil:
		err := doneScript.Run(cctx, c.e.c, []string{lock, c.doneKey(hexKey), c.tryKey(m.ID), c.key},
			token, doneTTL.Milliseconds(), groupName, m.ID).Err()
		if err != nil {
			c.redisError(ctx, "acknowledging entry "+m.ID, err)
		}
	case ctx.Err() != nil:
		// Consume is ending: not the entry's fault. Hand it back.
		err := releaseScript.Run(cctx, c.e.c, []string{lock, c.key},
			token, groupName, c.opts.Consumer, m.ID, c.opts.ClaimIdle.Milliseconds()).Err()
		if err != nil {
			c.redisError(ctx, "handing back entry "+m.ID, err)
		}
	default:
		c.fail(ctx, m, token, hexKey, payload, herr, false)
	}
}

// fail counts a failed attempt of m, dead-lettering it at MaxAttempts (at
// once when force).
func (c *consumer) fail(ctx context.Context, m redis.XMessage, token, hexKey, payload string, herr error, force bool) {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	msg := herr.Error()
	if len(msg) > maxErrLen {
		msg = msg[:maxErrLen]
	}
	f := "0"
	if force {
		f = "1"
	}
	res, err := failScript.Run(cctx, c.e.c, []string{c.lockKey(hexKey), c.tryKey(m.ID), c.key, c.dead},
		token, groupName, m.ID, c.opts.Consumer, c.opts.MaxAttempts, msg, hexKey, payload,
		tryTTL.Milliseconds(), maxStreamLen, f).Int64Slice()
	if err != nil {
		c.onError(ctx, fmt.Errorf("redisstate: stream %q entry %s failed: %w", c.stream, m.ID, herr))
		c.redisError(ctx, "recording the failure of entry "+m.ID, err)
		return
	}
	n, dead := res[0], res[1] == 1
	switch {
	case n < 0:
		c.onError(ctx, fmt.Errorf("redisstate: stream %q entry %s failed (its lock had expired, so the attempt is not counted): %w", c.stream, m.ID, herr))
	case dead:
		c.onError(ctx, fmt.Errorf("redisstate: stream %q entry %s dead-lettered after %d attempts: %w", c.stream, m.ID, n, herr))
	default:
		c.onError(ctx, fmt.Errorf("redisstate: stream %q entry %s attempt %d of %d failed: %w", c.stream, m.ID, n, c.opts.MaxAttempts, herr))
	}
}

// heartbeat keeps the lock and claim of a running entry alive until ctx
// ends (the handle returned, or Consume is ending).
func (c *consumer) heartbeat(ctx context.Context, lock, token, id string) {
	t := time.NewTicker(c.heartbeatEvery())
	defer t.Stop()
	lost := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := heartbeatScript.Run(ctx, c.e.c, []string{lock, c.key},
			token, c.lockTTL(), groupName, c.opts.Consumer, id).Int()
		switch {
		case err != nil:
			if ctx.Err() == nil {
				c.redisError(ctx, "keeping entry "+id+" claimed", err)
			}
		case ok == 0 && !lost:
			lost = true
			c.onError(ctx, fmt.Errorf("redisstate: stream %q entry %s: its key's lock expired while its handle ran (Redis out of reach for ClaimIdle?); another consumer may run it too", c.stream, id))
		}
	}
}

// call runs handle, turning a panic into an error.
func (c *consumer) call(ctx context.Context, payload []byte) (err error) {
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handle panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return c.handle(hctx, payload)
}

// handBack gives up entries this consumer holds but will not run (Consume
// is ending): their idle time is set to ClaimIdle, so another consumer
// claims them at once.
func (c *consumer) handBack(ctx context.Context, msgs []redis.XMessage) {
	if len(msgs) == 0 {
		return
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	args := []any{"xclaim", c.key, groupName, c.opts.Consumer, 0}
	for _, m := range msgs {
		args = append(args, m.ID)
	}
	args = append(args, "idle", c.opts.ClaimIdle.Milliseconds(), "justid")
	if err := c.e.c.Do(cctx, args...).Err(); err != nil {
		c.redisError(ctx, "handing back entries", err)
	}
}

func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

func parseKey(s string) (state.Key, error) {
	var k state.Key
	if len(s) != 2*len(k) {
		return k, errors.New("bad key")
	}
	_, err := hex.Decode(k[:], []byte(s))
	return k, err
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// firstPositive returns the first of vs above zero.
func firstPositive[T int | time.Duration](vs ...T) T {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}
