package redisstate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/switchboard-go/switchboard/telephony/state"
)

// limits implements state.Limits with Lua scripts: every call is one
// atomic round trip (EVALSHA, falling back to EVAL when the server does not
// have the script yet).
//
// Times are passed from Go in Unix milliseconds (never Redis TIME), so the
// callers' clock is the only clock and tests may use any. Waits come back
// in microseconds.
//
// Keys, under the store's prefix:
//
//	acct:{<account>}:gate               the not-before time (ms), until it passes
//	acct:{<account>}:w<i>:<kind><ms>    window i of the account: a hash
//	key:<name>:<sha256 hex of key>      a keyed bucket's TAT (ms)
//
// The braces are a Redis Cluster hash tag: all keys of one account live in
// one slot, so one script can touch them all. A window's key names its kind
// (c: counted, s: smooth) and period, so a changed configuration starts
// from a fresh window instead of misreading the old one. Every key has a
// TTL, renewed by each write: a window lives until its reset (or its
// GCRA's TAT) plus two of its periods, the gate until its time (on the
// real clock: Redis expires keys by it), a keyed bucket until it would be
// full again. Memory is bounded by live state, and live state is never
// forgotten.
type limits struct {
	c      redis.UniversalClient
	prefix string
}

func newLimits(c redis.UniversalClient, prefix string) *limits { return &limits{c: c, prefix: prefix} }

// limitsLua holds the helpers the account scripts share.
//
// A counted window's hash holds:
//
//	lim    the limit the provider reported (absent: the configured one)
//	rem    requests left in the current window
//	reset  when the current window ends (ms)
//	last   the latest reset the provider reported (ms; absent: none)
//	obs    the provider's window length, once seen (ms)
//	conf   "1" when reset comes from the provider's headers
//
// A smooth window's hash holds lim (as above) and tat, the theoretical
// arrival time of its GCRA (ms, fractional).
const limitsLua = `
local function num(v, d)
  local n = tonumber(v)
  if n == nil then return d end
  return n
end
local function fmt(n) return string.format('%.3f', n) end
local function ms(n) return string.format('%.0f', math.ceil(n)) end
`

// admitScript: KEYS[1] the gate, KEYS[1+j] window j. ARGV[1] now (ms),
// then per window: counted (0/1), configured limit, period (ms).
// Returns 0 when admitted (one taken from every window), else the wait in
// microseconds (nothing changed).
var admitScript = redis.NewScript(limitsLua + `
local now = tonumber(ARGV[1])
local gate = num(redis.call('GET', KEYS[1]), 0)
if gate > now then return math.ceil((gate - now) * 1000) end
local wait = 0
local plan = {}
for j = 2, #KEYS do
  local a = 2 + (j - 2) * 3
  local counted = ARGV[a] == '1'
  local period = tonumber(ARGV[a + 2])
  if counted then
    local h = redis.call('HMGET', KEYS[j], 'lim', 'rem', 'reset', 'obs')
    local limit = num(h[1], tonumber(ARGV[a + 1]))
    if limit > 0 and period > 0 then
      local rem, reset, obs = num(h[2], limit), num(h[3], nil), num(h[4], 0)
      if reset == nil then
        reset, rem = now + period, limit
      elseif now >= reset then
        local p = period
        if obs > 0 then p = obs end
        reset = reset + (math.floor((now - reset) / p) + 1) * p
        rem = limit
      end
      if rem <= 0 then wait = math.max(wait, reset - now) end
      plan[#plan + 1] = {KEYS[j], true, rem - 1, reset, math.max(period, obs)}
    end
  else
    local h = redis.call('HMGET', KEYS[j], 'lim', 'tat')
    local limit = num(h[1], tonumber(ARGV[a + 1]))
    -- a configured limit of 0 turns the window off (WithRateLimit replaced it)
    if tonumber(ARGV[a + 1]) <= 0 then limit = 0 end
    if limit > 0 and period > 0 then
      local interval = period / limit
      local tat = math.max(num(h[2], now), now)
      local w = tat - now - (limit - 1) * interval
      if w > 0 then wait = math.max(wait, w) end
      plan[#plan + 1] = {KEYS[j], false, tat + interval, 0, period}
    end
  end
end
if wait > 0 then return math.ceil(wait * 1000) end
for _, p in ipairs(plan) do
  if p[2] then
    redis.call('HSET', p[1], 'rem', p[3], 'reset', ms(p[4]))
    redis.call('PEXPIRE', p[1], ms(p[4] - now + 2 * p[5]))
  else
    redis.call('HSET', p[1], 'tat', fmt(p[3]))
    redis.call('PEXPIRE', p[1], ms(p[3] - now + 2 * p[5]))
  end
end
return 0
`)

// reportScript: KEYS[1] the window. ARGV: now, counted (0/1), configured
// limit, period (ms), hasLimit, limit, hasRemaining, remaining, hasReset,
// reset (ms). A port of the transport's Account.report.
var reportScript = redis.NewScript(limitsLua + `
local now = tonumber(ARGV[1])
local counted = ARGV[2] == '1'
local period = tonumber(ARGV[4])
local hasLimit, rlimit = ARGV[5] == '1', tonumber(ARGV[6])
local hasRem, rrem = ARGV[7] == '1', tonumber(ARGV[8])
local hasReset, rreset = ARGV[9] == '1', tonumber(ARGV[10])
local key = KEYS[1]
if not counted then
  if not (hasLimit and rlimit > 0) then return 0 end
  local tat = num(redis.call('HGET', key, 'tat'), now)
  redis.call('HSET', key, 'lim', rlimit)
  redis.call('PEXPIRE', key, ms(math.max(tat - now, 0) + 2 * period))
  return 0
end
local h = redis.call('HMGET', key, 'lim', 'rem', 'reset', 'last', 'obs', 'conf')
local limit = num(h[1], tonumber(ARGV[3]))
if hasLimit and rlimit > 0 then limit = rlimit end
local rem, reset, last, obs = num(h[2], nil), num(h[3], nil), num(h[4], 0), num(h[5], 0)
local conf = h[6] == '1'
if reset == nil then
  -- No window yet (or it expired): start one as Admit would.
  reset, rem, conf = now + period, limit, false
end
if rem == nil then rem = limit end
local function lower()
  if hasRem and rrem < rem then rem = rrem end
end
if not hasReset then
  lower()
else
  -- A reset further away than two windows is not believed: one bad
  -- header must not close the account for years.
  local cap = now + 2 * math.max(period, obs)
  if rreset > cap then rreset = cap end
  -- A reset sent as "seconds from now" jitters by the rounding.
  local tol = math.min(500, period / 4)
  if last == 0 or rreset > last + tol then
    if last ~= 0 then obs = rreset - last end
    local same = (not conf) or math.abs(reset - rreset) <= tol
    last, reset, conf = rreset, rreset, true
    if same then
      lower() -- our count already holds requests in flight in this window
    elseif hasRem then
      rem = rrem
    end
  elseif rreset < last - tol then
    -- a late answer from a past window
  else
    lower()
  end
end
local c = '0'
if conf then c = '1' end
if hasLimit and rlimit > 0 then redis.call('HSET', key, 'lim', rlimit) end
redis.call('HSET', key, 'rem', rem, 'reset', ms(reset), 'last', ms(last), 'obs', ms(obs), 'conf', c)
redis.call('PEXPIRE', key, ms(math.max(reset - now, 0) + 2 * math.max(period, obs)))
return 0
`)

// blockScript: KEYS[1] the gate. ARGV: until (ms), ttl (ms).
var blockScript = redis.NewScript(limitsLua + `
local untilMs = tonumber(ARGV[1])
if num(redis.call('GET', KEYS[1]), 0) >= untilMs then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// takeScript: KEYS[1] the bucket. ARGV: now (ms), every (ms), burst.
// Returns 0 when a token was taken, else the wait in microseconds.
var takeScript = redis.NewScript(limitsLua + `
local now, every, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = math.max(num(redis.call('GET', KEYS[1]), now), now)
local w = tat - now - (burst - 1) * every
if w > 0 then return math.ceil(w * 1000) end
tat = tat + every
-- Expire at the wall-clock time the bucket is full again (now is wall
-- clock in ms), plus a margin for clock skew between hosts: a bucket is
-- never dropped while it still holds a debt, however long the caller took.
redis.call('SET', KEYS[1], fmt(tat), 'PXAT', ms(tat + 2000))
return 0
`)

// returnScript: KEYS[1] the bucket. ARGV: now (ms), every (ms).
var returnScript = redis.NewScript(limitsLua + `
local now, every = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = num(redis.call('GET', KEYS[1]), nil)
if tat == nil then return 0 end
tat = tat - every
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], fmt(tat), 'PXAT', ms(tat + 2000))
end
return 0
`)

// unixMillisCeil returns t in Unix milliseconds, rounded up: a gate or a reset is
// never taken as earlier than it is.
func unixMillisCeil(t time.Time) int64 {
	ns := t.UnixNano()
	m := ns / 1e6
	if ns%1e6 > 0 {
		m++
	}
	return m
}

// durationMillis formats d in milliseconds, with a fraction when it has one.
func durationMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64)
}

func (l *limits) accountKey(account string) string {
	return l.prefix + "acct:{" + account + "}:"
}

func accountWindowKey(base string, i int, w state.Window) string {
	kind := "s"
	if w.Counted {
		kind = "c"
	}
	return base + "w" + strconv.Itoa(i) + ":" + kind + strconv.FormatInt(w.Period.Milliseconds(), 10)
}

func luaBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// limitsErr wraps a Redis error with the operation. go-redis's errors name
// the address at most, never the password.
func limitsErr(op string, err error) error {
	return fmt.Errorf("redisstate: %s: %w", op, err)
}

func (l *limits) Admit(ctx context.Context, account string, windows []state.Window, now time.Time) (time.Duration, error) {
	base := l.accountKey(account)
	keys := make([]string, 1, 1+len(windows))
	keys[0] = base + "gate"
	args := make([]any, 1, 1+3*len(windows))
	args[0] = now.UnixMilli()
	for i, w := range windows {
		if w.Period <= 0 {
			continue // not a rate (the transport does not count it either)
		}
		keys = append(keys, accountWindowKey(base, i, w))
		args = append(args, luaBool(w.Counted), w.Limit, durationMillis(w.Period))
	}
	us, err := admitScript.Run(ctx, l.c, keys, args...).Int64()
	if err != nil {
		return 0, limitsErr("admit", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

func (l *limits) Report(ctx context.Context, account string, windows []state.Window, i int, r state.Report, now time.Time) error {
	if i < 0 || i >= len(windows) {
		return nil
	}
	w := windows[i]
	if w.Period <= 0 || !w.Counted && !(r.HasLimit && r.Limit > 0) {
		return nil // nothing Admit would read
	}
	var reset int64
	if r.HasReset {
		reset = unixMillisCeil(r.Reset)
	}
	key := accountWindowKey(l.accountKey(account), i, w)
	err := reportScript.Run(ctx, l.c, []string{key},
		now.UnixMilli(), luaBool(w.Counted), w.Limit, durationMillis(w.Period),
		luaBool(r.HasLimit), r.Limit, luaBool(r.HasRemaining), r.Remaining, luaBool(r.HasReset), reset).Err()
	if err != nil {
		return limitsErr("report", err)
	}
	return nil
}

func (l *limits) Block(ctx context.Context, account string, until time.Time) error {
	// The gate's TTL is relative to the real clock: Redis's own expiry
	// runs on it. A gate that has already passed closes nothing.
	ttl := time.Until(until)
	if ttl <= 0 {
		return nil
	}
	ttlMillis := int64((ttl + time.Millisecond - 1) / time.Millisecond)
	err := blockScript.Run(ctx, l.c, []string{l.accountKey(account) + "gate"}, unixMillisCeil(until), ttlMillis).Err()
	if err != nil {
		return limitsErr("block", err)
	}
	return nil
}

// bucketKey names a keyed bucket: a fixed-size hash of key, which may be
// long or chosen by a caller.
func (l *limits) bucketKey(name, key string) string {
	sum := sha256.Sum256([]byte(key))
	return l.prefix + "key:" + name + ":" + hex.EncodeToString(sum[:])
}

// takeCall returns the keys and arguments of takeScript for Take.
func (l *limits) takeCall(name, key string, every time.Duration, burst int, now time.Time) ([]string, []any) {
	return []string{l.bucketKey(name, key)}, []any{now.UnixMilli(), durationMillis(every), burst}
}

var errTakeBurst = errors.New("burst must be at least 1")

func (l *limits) Take(ctx context.Context, name, key string, every time.Duration, burst int, now time.Time) (time.Duration, error) {
	if every <= 0 {
		return 0, nil // no limit
	}
	if burst < 1 {
		return 0, limitsErr("take "+name, errTakeBurst)
	}
	keys, args := l.takeCall(name, key, every, burst, now)
	us, err := takeScript.Run(ctx, l.c, keys, args...).Int64()
	if err != nil {
		return 0, limitsErr("take "+name, err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

func (l *limits) Return(ctx context.Context, name, key string, every time.Duration, burst int, now time.Time) error {
	if every <= 0 {
		return nil
	}
	err := returnScript.Run(ctx, l.c, []string{l.bucketKey(name, key)}, now.UnixMilli(), durationMillis(every)).Err()
	if err != nil {
		return limitsErr("return "+name, err)
	}
	return nil
}
