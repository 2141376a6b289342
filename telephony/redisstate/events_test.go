package redisstate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/switchboard-go/switchboard/internal/redistest"
	"github.com/switchboard-go/switchboard/telephony/redisstate"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// The key layout and group name of the event log, as documented in
// events.go: tests look at Redis directly to check what is acknowledged.
const evGroup = "switchboard"

func evStreamKey(prefix, stream string) string { return prefix + "events:{" + stream + "}" }

// evLogs returns n event logs sharing one Redis database and one prefix,
// each on a client (a connection pool) of its own, as n replicas of a
// backend would be, and the first client and the prefix.
func evLogs(t *testing.T, n int) ([]state.EventLog, *redis.Client, string) {
	t.Helper()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	logs := make([]state.EventLog, n)
	for i := range logs {
		cl := c
		if i > 0 {
			o := c.Options()
			cl = redis.NewClient(&redis.Options{Addr: o.Addr, DB: o.DB, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig})
			t.Cleanup(func() { _ = cl.Close() })
		}
		st, err := redisstate.New(cl, redisstate.Options{Prefix: prefix})
		require.NoError(t, err)
		require.NotNil(t, st.Events(), "the Redis store has an event log")
		logs[i] = st.Events()
	}
	return logs, c, prefix
}

// evConsume runs Consume in the background and returns a stop func that
// cancels it and checks it returns nil promptly. stop is also run at
// cleanup; calling it twice is fine.
func evConsume(t *testing.T, l state.EventLog, stream string, handle func(context.Context, []byte) error, opts state.ConsumeOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Consume(ctx, stream, handle, opts) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "Consume returns nil once its context ends")
			case <-time.After(3 * time.Second):
				t.Errorf("Consume did not return within 3s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// evTally counts the handles run per payload.
type evTally struct {
	mu     sync.Mutex
	counts map[string]int
}

func newEvTally() *evTally { return &evTally{counts: map[string]int{}} }

func (ta *evTally) add(p []byte) {
	ta.mu.Lock()
	ta.counts[string(p)]++
	ta.mu.Unlock()
}

func (ta *evTally) get(p string) int {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	return ta.counts[p]
}

// distinct returns how many payloads were processed, and how many of them
// more than once.
func (ta *evTally) distinct() (n, twice int) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	for _, c := range ta.counts {
		n++
		if c > 1 {
			twice++
		}
	}
	return n, twice
}

// evErrors collects what OnError was told.
type evErrors struct {
	mu   sync.Mutex
	errs []error
}

func (e *evErrors) on(_ context.Context, err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
}

func (e *evErrors) list() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

func (e *evErrors) count(match func(error) bool) int {
	n := 0
	for _, err := range e.list() {
		if match(err) {
			n++
		}
	}
	return n
}

// evPending returns how many entries of stream are delivered and not
// acknowledged.
func evPending(t *testing.T, c *redis.Client, prefix, stream string) int64 {
	t.Helper()
	p, err := c.XPending(context.Background(), evStreamKey(prefix, stream), evGroup).Result()
	require.NoError(t, err)
	return p.Count
}

func evAppend(t *testing.T, l state.EventLog, stream, key, payload string) {
	t.Helper()
	require.NoError(t, l.Append(context.Background(), stream, state.KeyOf(key), []byte(payload)))
}

// Two replicas consume one stream: every event is processed exactly once,
// and every entry is acknowledged.
func TestEventsTwoConsumersEachOnce(t *testing.T) {
	t.Parallel()
	logs, c, prefix := evLogs(t, 2)
	const stream, n = "calls", 100
	tally := newEvTally()
	var byConsumer [2]atomic.Int64
	stops := make([]func(), 2)
	for i, l := range logs {
		stops[i] = evConsume(t, l, stream, func(ctx context.Context, p []byte) error {
			time.Sleep(time.Millisecond) // some work, so both consumers get a share
			tally.add(p)
			byConsumer[i].Add(1)
			return nil
		}, state.ConsumeOptions{Consumer: fmt.Sprintf("replica-%d", i)})
	}
	for i := range n {
		evAppend(t, logs[i%2], stream, fmt.Sprint("ev", i), fmt.Sprint("ev", i))
	}
	require.Eventually(t, func() bool {
		d, _ := tally.distinct()
		return d == n && evPending(t, c, prefix, stream) == 0
	}, 4*time.Second, 10*time.Millisecond, "every event processed and acknowledged")
	time.Sleep(50 * time.Millisecond) // room for a wrong second run
	for _, stop := range stops {
		stop()
	}
	for i := range n {
		assert.Equal(t, 1, tally.get(fmt.Sprint("ev", i)), "event %d processed once", i)
	}
	assert.Zero(t, evPending(t, c, prefix, stream), "nothing left pending")
	groups, err := c.XInfoGroups(context.Background(), evStreamKey(prefix, stream)).Result()
	require.NoError(t, err)
	require.Len(t, groups, 1)
	assert.Zero(t, groups[0].Consumers, "a consumer with nothing pending leaves the group when it stops")
	length, err := c.XLen(context.Background(), evStreamKey(prefix, stream)).Result()
	require.NoError(t, err)
	// Settled entries are deleted, so the stream's length is its backlog
	// (which bounds what Append accepts, instead of trimming unprocessed
	// events).
	assert.Zero(t, length, "every settled entry deleted from the stream")
	t.Logf("events: %d appended, replica-0 processed %d, replica-1 %d", n, byConsumer[0].Load(), byConsumer[1].Load())
}

// Entries appended before any consumer of the stream ever started are
// processed (the group starts at the beginning of the stream, not at $).
func TestEventsAppendedBeforeConsumer(t *testing.T) {
	t.Parallel()
	logs, c, prefix := evLogs(t, 1)
	const stream, n = "early", 10
	for i := range n {
		evAppend(t, logs[0], stream, fmt.Sprint("k", i), fmt.Sprint("p", i))
	}
	tally := newEvTally()
	evConsume(t, logs[0], stream, func(ctx context.Context, p []byte) error {
		tally.add(p)
		return nil
	}, state.ConsumeOptions{})
	require.Eventually(t, func() bool {
		d, _ := tally.distinct()
		return d == n
	}, 3*time.Second, 10*time.Millisecond, "the events appended before the consumer are processed")
	for i := range n {
		assert.Equal(t, 1, tally.get(fmt.Sprint("p", i)))
	}
	assert.Eventually(t, func() bool { return evPending(t, c, prefix, stream) == 0 }, time.Second, 10*time.Millisecond)
}

// A key appended twice (a redelivered webhook), at once or later, is
// processed once, and its duplicates are acknowledged.
func TestEventsDuplicateKeyOnce(t *testing.T) {
	t.Parallel()
	logs, c, prefix := evLogs(t, 1)
	const stream = "dup"
	var runs atomic.Int64
	tally := newEvTally()
	evConsume(t, logs[0], stream, func(ctx context.Context, p []byte) error {
		if strings.HasPrefix(string(p), "call-1") {
			runs.Add(1)
			time.Sleep(20 * time.Millisecond) // both copies are in hand at once
		}
		tally.add(p)
		return nil
	}, state.ConsumeOptions{RetryBackoff: 20 * time.Millisecond})

	// Two copies back to back (read in one batch, run concurrently).
	evAppend(t, logs[0], stream, "call-1", "call-1 first copy")
	evAppend(t, logs[0], stream, "call-1", "call-1 second copy")
	evAppend(t, logs[0], stream, "marker-1", "marker-1")
	require.Eventually(t, func() bool {
		return tally.get("marker-1") == 1 && evPending(t, c, prefix, stream) == 0
	}, 3*time.Second, 10*time.Millisecond, "everything up to marker-1 acknowledged")
	assert.EqualValues(t, 1, runs.Load(), "call-1 ran once for two copies appended together")

	// A redelivery once the first is done.
	evAppend(t, logs[0], stream, "call-1", "call-1 third copy")
	evAppend(t, logs[0], stream, "marker-2", "marker-2")
	require.Eventually(t, func() bool {
		return tally.get("marker-2") == 1 && evPending(t, c, prefix, stream) == 0
	}, 3*time.Second, 10*time.Millisecond, "everything up to marker-2 acknowledged")
	assert.EqualValues(t, 1, runs.Load(), "call-1 ran once for three copies")
}

var errEvBoom = errors.New("boom: the backend is down")

// A handle that fails twice and then succeeds is retried with backoff and
// processed on its third attempt.
func TestEventsRetryThenSucceed(t *testing.T) {
	t.Parallel()
	logs, c, prefix := evLogs(t, 1)
	const stream = "retry"
	const backoff = 20 * time.Millisecond
	var mu sync.Mutex
	var starts []time.Time
	var succeeded atomic.Bool
	errs := &evErrors{}
	evConsume(t, logs[0], stream, func(ctx context.Context, p []byte) error {
		mu.Lock()
		starts = append(starts, time.Now())
		n := len(starts)
		mu.Unlock()
		if n <= 2 {
			return errEvBoom
		}
		succeeded.Store(true)
		return nil
	}, state.ConsumeOptions{RetryBackoff: backoff, OnError: errs.on})
	evAppend(t, logs[0], stream, "k", "payload")
	require.Eventually(t, succeeded.Load, 3*time.Second, 5*time.Millisecond, "processed after two failures")
	require.Eventually(t, func() bool { return evPending(t, c, prefix, stream) == 0 }, time.Second, 5*time.Millisecond, "acknowledged")
	time.Sleep(4 * backoff) // room for a wrong further attempt

	mu.Lock()
	attempts := append([]time.Time(nil), starts...)
	mu.Unlock()
	require.Len(t, attempts, 3, "attempts")
	assert.GreaterOrEqual(t, attempts[1].Sub(attempts[0]), backoff, "first retry after RetryBackoff")
	assert.GreaterOrEqual(t, attempts[2].Sub(attempts[1]), 2*backoff, "second retry after twice RetryBackoff")
	assert.Equal(t, 2, errs.count(func(err error) bool { return errors.Is(err, errEvBoom) }), "OnError told of each failed attempt")
	for _, err := range errs.list() {
		assert.Contains(t, err.Error(), "attempt", "a failed attempt, not a dead letter: %v", err)
	}
	dead, err := logs[0].DeadLetters(context.Background(), stream, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
	t.Logf("attempts at +0, +%v, +%v", attempts[1].Sub(attempts[0]).Round(time.Millisecond), attempts[2].Sub(attempts[0]).Round(time.Millisecond))
}

// An entry failing every attempt is dead-lettered after MaxAttempts, with
// its key, payload, attempt count and last error; Replay puts it back and
// it is processed.
func TestEventsDeadLetterAndReplay(t *testing.T) {
	t.Parallel()
	logs, c, prefix := evLogs(t, 1)
	const stream = "dead"
	var calls atomic.Int64
	var healthy atomic.Bool
	tally := newEvTally()
	errs := &evErrors{}
	evConsume(t, logs[0], stream, func(ctx context.Context, p []byte) error {
		calls.Add(1)
		if !healthy.Load() {
			return errEvBoom
		}
		tally.add(p)
		return nil
	}, state.ConsumeOptions{MaxAttempts: 3, RetryBackoff: 20 * time.Millisecond, OnError: errs.on})
	key := state.KeyOf("dialpad", "call", "42")
	require.NoError(t, logs[0].Append(context.Background(), stream, key, []byte("call 42 hung up")))

	var dead []state.DeadLetter
	require.Eventually(t, func() bool {
		var err error
		dead, err = logs[0].DeadLetters(context.Background(), stream, 10)
		require.NoError(t, err)
		return len(dead) > 0
	}, 3*time.Second, 10*time.Millisecond, "dead-lettered")
	require.Len(t, dead, 1)
	d := dead[0]
	assert.Equal(t, 3, d.Attempts)
	assert.Equal(t, key, d.Key)
	assert.Equal(t, "call 42 hung up", string(d.Payload))
	assert.Contains(t, d.Err, errEvBoom.Error())
	assert.NotEmpty(t, d.ID)
	assert.EqualValues(t, 3, calls.Load(), "tried MaxAttempts times, no more")
	assert.Zero(t, evPending(t, c, prefix, stream), "a dead letter is acknowledged")
	assert.Equal(t, 3, errs.count(func(err error) bool { return errors.Is(err, errEvBoom) }), "OnError told of each failure")
	assert.Equal(t, 1, errs.count(func(err error) bool { return strings.Contains(err.Error(), "dead-lettered") }), "OnError told of the dead letter")

	healthy.Store(true)
	require.NoError(t, logs[0].Replay(context.Background(), stream, d.ID))
	require.Eventually(t, func() bool { return tally.get("call 42 hung up") == 1 }, 3*time.Second, 10*time.Millisecond, "processed once replayed")
	dead, err := logs[0].DeadLetters(context.Background(), stream, 10)
	require.NoError(t, err)
	assert.Empty(t, dead, "Replay took it off the dead-letter stream")
	assert.Eventually(t, func() bool { return evPending(t, c, prefix, stream) == 0 }, time.Second, 10*time.Millisecond)

	err = logs[0].Replay(context.Background(), stream, d.ID)
	assert.ErrorIs(t, err, redisstate.ErrNoDeadLetter, "a dead letter replays once")
}

// A consumer that dies holding entries (its handles never succeed, its
// context ends) loses none: another consumer claims them after ClaimIdle.
func TestEventsCrashedConsumerClaimed(t *testing.T) {
	t.Parallel()
	logs, c, prefix := evLogs(t, 2)
	const stream, n = "crash", 20
	const claimIdle = 200 * time.Millisecond
	for i := range n {
		evAppend(t, logs[0], stream, fmt.Sprint("k", i), fmt.Sprint("p", i))
	}

	// A takes every entry and hangs in each of them, deaf to its context.
	var took atomic.Int64
	hang := make(chan struct{})
	stopA := evConsume(t, logs[0], stream, func(ctx context.Context, p []byte) error {
		took.Add(1)
		<-hang
		return errors.New("A died")
	}, state.ConsumeOptions{Consumer: "A", Concurrency: n, ClaimIdle: claimIdle})
	require.Eventually(t, func() bool { return took.Load() == n }, 3*time.Second, 5*time.Millisecond, "A took every entry")
	waitA := make(chan struct{})
	go func() { stopA(); close(waitA) }() // A's context ends: it stops keeping its entries alive
	time.Sleep(10 * time.Millisecond)

	// B claims A's entries once they have been idle for ClaimIdle.
	tally := newEvTally()
	start := time.Now()
	evConsume(t, logs[1], stream, func(ctx context.Context, p []byte) error {
		tally.add(p)
		return nil
	}, state.ConsumeOptions{Consumer: "B", ClaimIdle: claimIdle, RetryBackoff: 50 * time.Millisecond})
	assert.Eventually(t, func() bool {
		d, _ := tally.distinct()
		return d == n && evPending(t, c, prefix, stream) == 0
	}, 4*time.Second, 10*time.Millisecond, "B processes and acknowledges A's entries")
	took2 := time.Since(start)
	processed, twice := tally.distinct()
	t.Logf("events: %d appended, %d processed, %d lost, %d processed twice", n, processed, n-processed, twice)
	t.Logf("B took over A's entries in %v (ClaimIdle %v)", took2.Round(time.Millisecond), claimIdle)
	assert.Equal(t, n, processed, "none lost")
	assert.Zero(t, twice, "none processed twice")
	assert.GreaterOrEqual(t, took2, claimIdle/2, "not claimed before A's entries were idle")

	close(hang) // A's handles return at last: too late to count
	select {
	case <-waitA:
	case <-time.After(3 * time.Second):
		t.Fatal("A's Consume did not return")
	}
	assert.Zero(t, evPending(t, c, prefix, stream), "A's late failures do not reopen entries B acknowledged")
	dead, err := logs[0].DeadLetters(context.Background(), stream, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

// A consumer that stops (its context ends) while its handles run hands
// their entries back: another consumer takes them at once, without waiting
// for ClaimIdle, and the interrupted runs are not counted as attempts.
func TestEventsShutdownHandsBack(t *testing.T) {
	t.Parallel()
	logs, c, prefix := evLogs(t, 2)
	const stream, n = "handback", 5
	const claimIdle = 3 * time.Second
	for i := range n {
		evAppend(t, logs[0], stream, fmt.Sprint("k", i), fmt.Sprint("p", i))
	}
	var took atomic.Int64
	errsA := &evErrors{}
	stopA := evConsume(t, logs[0], stream, func(ctx context.Context, p []byte) error {
		took.Add(1)
		<-ctx.Done() // a well-behaved handle: gives up when told
		return ctx.Err()
	}, state.ConsumeOptions{Consumer: "A", ClaimIdle: claimIdle, OnError: errsA.on})
	require.Eventually(t, func() bool { return took.Load() == n }, 3*time.Second, 5*time.Millisecond, "A took every entry")
	stopA()

	tally := newEvTally()
	start := time.Now()
	evConsume(t, logs[1], stream, func(ctx context.Context, p []byte) error {
		tally.add(p)
		return nil
	}, state.ConsumeOptions{Consumer: "B", ClaimIdle: claimIdle, RetryBackoff: 50 * time.Millisecond})
	require.Eventually(t, func() bool {
		d, _ := tally.distinct()
		return d == n && evPending(t, c, prefix, stream) == 0
	}, 2*time.Second, 10*time.Millisecond, "B takes A's entries long before ClaimIdle")
	t.Logf("B took over the %d entries A handed back in %v (ClaimIdle %v)", n, time.Since(start).Round(time.Millisecond), claimIdle)
	_, twice := tally.distinct()
	assert.Zero(t, twice)
	assert.Empty(t, errsA.list(), "an interrupted run is not a failed attempt")
	keys, err := c.Keys(context.Background(), evStreamKey(prefix, stream)+":try:*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys, "no attempt counted")
}

// An entry that is not an event (no key) is dead-lettered at once,
// without running the handle.
func TestEventsMalformedEntryDeadLettered(t *testing.T) {
	t.Parallel()
	logs, c, prefix := evLogs(t, 1)
	const stream = "malformed"
	require.NoError(t, c.XAdd(context.Background(), &redis.XAddArgs{
		Stream: evStreamKey(prefix, stream), Values: []any{"p", "no key"},
	}).Err())
	evAppend(t, logs[0], stream, "good", "good")
	tally := newEvTally()
	errs := &evErrors{}
	evConsume(t, logs[0], stream, func(ctx context.Context, p []byte) error {
		tally.add(p)
		return nil
	}, state.ConsumeOptions{OnError: errs.on})
	var dead []state.DeadLetter
	require.Eventually(t, func() bool {
		var err error
		dead, err = logs[0].DeadLetters(context.Background(), stream, 10)
		require.NoError(t, err)
		return len(dead) == 1 && tally.get("good") == 1
	}, 3*time.Second, 10*time.Millisecond)
	assert.Equal(t, "no key", string(dead[0].Payload))
	assert.Contains(t, dead[0].Err, "malformed")
	assert.Zero(t, tally.get("no key"), "the handle never saw it")
	assert.Eventually(t, func() bool { return evPending(t, c, prefix, stream) == 0 }, time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, errs.count(func(err error) bool { return strings.Contains(err.Error(), "dead-lettered") }))
}

// A handle that panics fails that attempt; Consume goes on.
func TestEventsPanicIsFailure(t *testing.T) {
	t.Parallel()
	logs, _, _ := evLogs(t, 1)
	const stream = "panic"
	var calls atomic.Int64
	var ok atomic.Bool
	errs := &evErrors{}
	evConsume(t, logs[0], stream, func(ctx context.Context, p []byte) error {
		if calls.Add(1) == 1 {
			panic("handler bug")
		}
		ok.Store(true)
		return nil
	}, state.ConsumeOptions{RetryBackoff: 20 * time.Millisecond, OnError: errs.on})
	evAppend(t, logs[0], stream, "k", "p")
	require.Eventually(t, ok.Load, 3*time.Second, 5*time.Millisecond, "retried after the panic")
	assert.EqualValues(t, 2, calls.Load())
	assert.Equal(t, 1, errs.count(func(err error) bool { return strings.Contains(err.Error(), "handler bug") }), "the panic is reported")
}

// Redis restarted (empty) under a running Consume: Consume reports the
// failures, recreates its group and processes what is appended after.
func TestEventsSurvivesRedisRestart(t *testing.T) {
	t.Parallel()
	srv, err := redistest.Start()
	if err != nil {
		redistest.Unavailable(t, err)
	}
	t.Cleanup(srv.Close)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = c.Close() })
	st, err := redisstate.New(c, redisstate.Options{Prefix: redistest.Prefix(t)})
	require.NoError(t, err)
	l := st.Events()
	const stream, n = "restart", 5

	tally := newEvTally()
	errs := &evErrors{}
	evConsume(t, l, stream, func(ctx context.Context, p []byte) error {
		tally.add(p)
		return nil
	}, state.ConsumeOptions{RetryBackoff: 20 * time.Millisecond, ClaimIdle: 500 * time.Millisecond, OnError: errs.on})
	for i := range n {
		evAppend(t, l, stream, fmt.Sprint("before", i), fmt.Sprint("before", i))
	}
	require.Eventually(t, func() bool { d, _ := tally.distinct(); return d == n }, 3*time.Second, 10*time.Millisecond, "processed before the restart")

	srv.Stop()
	require.Eventually(t, func() bool { return len(errs.list()) > 0 }, 2*time.Second, 5*time.Millisecond, "OnError told Redis is gone")
	time.Sleep(100 * time.Millisecond)
	down := len(errs.list())
	require.NoError(t, srv.Restart())
	restarted := time.Now()

	for i := range n {
		require.Eventually(t, func() bool {
			return l.Append(context.Background(), stream, state.KeyOf(fmt.Sprint("after", i)), []byte(fmt.Sprint("after", i))) == nil
		}, 2*time.Second, 20*time.Millisecond, "append after the restart")
	}
	require.Eventually(t, func() bool { d, _ := tally.distinct(); return d == 2*n }, 4*time.Second, 10*time.Millisecond, "the events appended after the restart are processed")
	for i := range n {
		assert.Equal(t, 1, tally.get(fmt.Sprint("after", i)))
	}
	recovered := time.Since(restarted)
	all := errs.list()
	assert.NotEmpty(t, all)
	t.Logf("restart: %d OnError reports while Redis was down, %d in all; first: %v", down, len(all), all[0])
	t.Logf("restart: the %d events appended after the restart processed %v after it", n, recovered.Round(time.Millisecond))
}
