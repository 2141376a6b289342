package telephony

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/switchboard-go/switchboard/telephony/state"
)

// Defaults of LastAgentOptions.
const (
	// DefaultLastAgentTTL is how long a caller's last agent is remembered.
	DefaultLastAgentTTL = 30 * 24 * time.Hour
	// DefaultLastAgentMissTTL is how long "the history knows no agent for
	// this caller" is remembered, so that a caller who keeps calling does
	// not cost a history request each time.
	DefaultLastAgentMissTTL = 5 * time.Minute
	// DefaultLastAgentHistoryBudget bounds one history lookup.
	DefaultLastAgentHistoryBudget = time.Second
	// LastAgentHistoryRecords is how many of a caller's calls, newest
	// first, a history lookup reads at most (one or two pages).
	LastAgentHistoryRecords = 50
	// lastAgentHistoryMax bounds a history lookup whose context has no
	// deadline.
	lastAgentHistoryMax = 10 * time.Second
)

// LastAgentOptions configure a LastAgentMemory. The zero value remembers
// events only, in state.Default(), for DefaultLastAgentTTL.
type LastAgentOptions struct {
	// State holds the memory; nil means state.Default(). With a shared
	// store (Redis) every replica sees what any replica recorded.
	State *state.Store
	// TTL is how long a caller's last agent is remembered; zero means
	// DefaultLastAgentTTL.
	TTL time.Duration
	// MissTTL is how long an empty history answer is remembered; zero
	// means DefaultLastAgentMissTTL.
	MissTTL time.Duration
	// History are the provider clients asked on a miss, one per provider
	// (the call's Provider picks it). Only providers whose history
	// searches by number are asked (Client.CallFilters().Number: Aircall
	// and JustCall); Dialpad's cannot, so on Dialpad the rule answers
	// from recorded events alone. The requests share the client's
	// account rate limits: one that would have to wait past the routing
	// deadline is not sent (the rule then has no opinion).
	History []*Client
	// HistoryWindow is how far back the history is searched; zero means
	// TTL.
	HistoryWindow time.Duration
	// HistoryBudget bounds how long the rule waits for the history: at
	// most this, and at most half of what is left of the routing
	// context's deadline, so that later rules and the fallback still have
	// time. Zero means DefaultLastAgentHistoryBudget. A late lookup goes
	// on in the background (within the routing deadline) and caches its
	// answer for the next call.
	HistoryBudget time.Duration
	// OnError is told of failures to read or write the memory and of
	// failed or late history lookups; the rule then has no opinion and
	// the call goes to the next rule.
	OnError func(ctx context.Context, err error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// LastAgentStats counts what a LastAgentMemory did.
type LastAgentStats struct {
	Recorded        int64 // events remembered
	Hits            int64 // lookups answered from the memory
	Misses          int64 // lookups that found no agent
	HistoryRequests int64 // history lookups sent to a provider
	HistoryFound    int64 // history lookups that found an agent
	HistoryFailed   int64 // history lookups that failed or were late
}

// LastAgentMemory answers "which agent did this caller speak to last"
// without a CRM: Record remembers the agent of every answered inbound call
// from the call events the webhook handlers already receive, and on a
// miss the provider's own call history is asked (Aircall, JustCall),
// cached, within the routing deadline. Build one with NewLastAgentMemory
// and route with its Rule. It is safe for concurrent use.
//
// The memory is a state.Values entry per provider and caller
// (state.KeyOf("last-agent", provider, caller in E.164)), holding the
// agent's id and, where known, email. When the store cannot be reached the
// rule has no opinion (the next rule or the fallback decides) and
// recording fails silently to OnError: the user's EventFunc still runs.
type LastAgentMemory struct {
	opts    LastAgentOptions
	values  state.Values
	history map[string]*Client
	group   singleflight.Group

	recorded, hits, misses, requests, found, failed atomic.Int64
}

// NewLastAgentMemory returns a memory configured by opts. It panics on two
// History clients of one provider (a programming error).
func NewLastAgentMemory(opts LastAgentOptions) *LastAgentMemory {
	if opts.TTL <= 0 {
		opts.TTL = DefaultLastAgentTTL
	}
	if opts.MissTTL <= 0 {
		opts.MissTTL = DefaultLastAgentMissTTL
	}
	if opts.HistoryWindow <= 0 {
		opts.HistoryWindow = opts.TTL
	}
	if opts.HistoryBudget <= 0 {
		opts.HistoryBudget = DefaultLastAgentHistoryBudget
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &LastAgentMemory{opts: opts, values: state.Or(opts.State).Values(), history: map[string]*Client{}}
	for _, c := range opts.History {
		if c == nil {
			continue
		}
		if _, dup := m.history[c.Provider()]; dup {
			panic("telephony.NewLastAgentMemory: two History clients for " + c.Provider() + "; give one per provider")
		}
		m.history[c.Provider()] = c
	}
	return m
}

// lastAgentValue is what the memory stores; None marks a cached miss.
type lastAgentValue struct {
	ID    string `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	None  bool   `json:"none,omitempty"`
}

func lastAgentKey(provider, caller string) state.Key {
	return state.KeyOf("last-agent", provider, caller)
}

// Record wraps next (which may be nil) in an EventFunc that remembers the
// agent of every answered or completed inbound call with a known caller
// and agent, then calls next. A failure to remember goes to OnError and
// does not stop next.
func (m *LastAgentMemory) Record(next EventFunc) EventFunc {
	return func(ctx context.Context, ev CallEvent) error {
		if ev.Direction == DirectionInbound && ev.AgentID != "" &&
			(ev.Status == StatusInProgress || ev.Status == StatusCompleted) {
			if err := m.Remember(ctx, ev.Provider, ev.From, ev.AgentID, ""); err != nil {
				m.report(ctx, err)
			}
		}
		if next == nil {
			return nil
		}
		return next(ctx, ev)
	}
}

// Remember records that caller (E.164, or a form NormalizeNumber reads)
// last spoke to the agent with this provider id (and email, "" when
// unknown) on provider. A caller that is no phone number is ignored.
func (m *LastAgentMemory) Remember(ctx context.Context, provider, caller, agentID, agentEmail string) error {
	caller = NormalizeNumber(caller)
	if ValidateE164(caller) != nil || agentID == "" && agentEmail == "" {
		return nil
	}
	b, _ := json.Marshal(lastAgentValue{ID: agentID, Email: agentEmail})
	if err := m.values.Set(ctx, lastAgentKey(provider, caller), b, m.opts.TTL); err != nil {
		return fmt.Errorf("last agent memory: remembering %s's agent: %w", provider, err)
	}
	m.recorded.Add(1)
	return nil
}

// Lookup returns the agent caller last spoke to on provider: from the
// memory, else (when a History client of that provider searches by
// number) from the provider's call history, caching what it finds, and
// that nothing was found for MissTTL. ok is false when no agent is known.
// The history lookup is shared by concurrent lookups of one caller and
// ends with ctx.
func (m *LastAgentMemory) Lookup(ctx context.Context, provider, caller string) (to Target, ok bool, err error) {
	return m.lookup(ctx, ctx, provider, caller)
}

// lookup is Lookup where ctx bounds the history request and wait bounds
// the waiting for it: a lookup that outlives wait caches its answer.
func (m *LastAgentMemory) lookup(ctx, wait context.Context, provider, caller string) (to Target, ok bool, err error) {
	caller = NormalizeNumber(caller)
	if ValidateE164(caller) != nil {
		return Target{}, false, nil
	}
	key := lastAgentKey(provider, caller)
	b, found, err := m.values.Get(wait, key)
	if err != nil {
		return Target{}, false, fmt.Errorf("last agent memory: reading %s's memory: %w", provider, err)
	}
	if found {
		var v lastAgentValue
		if json.Unmarshal(b, &v) == nil {
			if v.None {
				m.misses.Add(1)
				return Target{}, false, nil
			}
			if t, ok := v.target(); ok {
				m.hits.Add(1)
				return t, true, nil
			}
		}
	}
	c := m.history[provider]
	if c == nil || !c.CallFilters().Number {
		m.misses.Add(1)
		return Target{}, false, nil
	}
	ch := m.group.DoChan(provider+"\x00"+caller, func() (any, error) {
		// Shared by every waiter, so not cancelled by the first one's
		// routing ending; bounded by its deadline all the same.
		// Without a deadline, lastAgentHistoryMax bounds it.
		dl := time.Now().Add(lastAgentHistoryMax)
		if d, ok := ctx.Deadline(); ok && d.Before(dl) {
			dl = d
		}
		hctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), dl)
		defer cancel()
		return m.askHistory(hctx, c, provider, caller)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			m.failed.Add(1)
			return Target{}, false, res.Err
		}
		v := res.Val.(lastAgentValue)
		if t, ok := v.target(); ok {
			return t, true, nil
		}
		m.misses.Add(1)
		return Target{}, false, nil
	case <-wait.Done():
		m.failed.Add(1)
		return Target{}, false, fmt.Errorf("last agent memory: %s's call history did not answer in time: %w", provider, wait.Err())
	}
}

// askHistory reads the caller's answered inbound calls, newest first, and
// caches the answer unless the memory got a value meanwhile.
func (m *LastAgentMemory) askHistory(ctx context.Context, c *Client, provider, caller string) (lastAgentValue, error) {
	m.requests.Add(1)
	q := CallQuery{Number: caller, Direction: DirectionInbound, Since: m.opts.Now().Add(-m.opts.HistoryWindow)}
	v, n := lastAgentValue{None: true}, 0
	for r, err := range c.Calls(ctx, q) {
		if err != nil {
			return lastAgentValue{}, fmt.Errorf("last agent memory: asking %s's call history: %w", provider, err)
		}
		// An answered call that names no agent tells nothing: look further.
		if r.Answered() && (r.AgentID != "" || r.AgentEmail != "") {
			v = lastAgentValue{ID: r.AgentID, Email: r.AgentEmail}
			break
		}
		if n++; n >= LastAgentHistoryRecords {
			break
		}
	}
	ttl := m.opts.TTL
	if v.None {
		ttl = m.opts.MissTTL
	} else {
		m.found.Add(1)
	}
	b, _ := json.Marshal(v)
	// Only into an empty slot: an event recorded while the history was
	// being read is fresher than the history's answer, and is kept.
	if _, err := m.values.SetIfAbsent(ctx, lastAgentKey(provider, caller), b, ttl); err != nil {
		m.report(ctx, fmt.Errorf("last agent memory: caching %s's history answer: %w", provider, err))
	}
	return v, nil
}

func (v lastAgentValue) target() (Target, bool) {
	switch {
	case v.None:
		return Target{}, false
	case v.ID != "":
		return UserTarget(v.ID), true
	case v.Email != "":
		return UserByEmail(v.Email), true
	}
	return Target{}, false
}

// Rule is the routing rule "send the caller to the agent they spoke to
// last": it answers from the memory, else from the provider's history
// (see Lookup) within HistoryBudget and half of what is left of the
// routing deadline. When the memory cannot be read or the history fails or
// is late, it reports to OnError and has no opinion, so the next rule or
// the fallback routes the call in time.
func (m *LastAgentMemory) Rule() Rule {
	return func(ctx context.Context, call InboundCall) (Target, bool, error) {
		if call.From == "" {
			return Target{}, false, nil
		}
		budget := m.opts.HistoryBudget
		if dl, ok := ctx.Deadline(); ok {
			budget = min(budget, time.Until(dl)/2)
		}
		lctx, cancel := context.WithTimeout(ctx, budget)
		defer cancel()
		to, ok, err := m.lookup(ctx, lctx, call.Provider, call.From)
		if err != nil {
			if ctx.Err() != nil {
				return Target{}, false, ctx.Err()
			}
			m.report(ctx, err)
			return Target{}, false, nil
		}
		return to, ok, nil
	}
}

// Stats returns the memory's counters.
func (m *LastAgentMemory) Stats() LastAgentStats {
	return LastAgentStats{Recorded: m.recorded.Load(), Hits: m.hits.Load(), Misses: m.misses.Load(),
		HistoryRequests: m.requests.Load(), HistoryFound: m.found.Load(), HistoryFailed: m.failed.Load()}
}

func (m *LastAgentMemory) report(ctx context.Context, err error) {
	if m.opts.OnError != nil && err != nil && !errors.Is(err, context.Canceled) {
		m.opts.OnError(ctx, err)
	}
}
