package webhook

import (
	"container/list"
	"sync"
	"time"
)

// DefaultDedupeTTL is how long a delivery key is remembered: longer than any
// provider's documented redelivery window.
const DefaultDedupeTTL = 24 * time.Hour

// Dedupe remembers delivery keys for a TTL, in a bounded amount of memory.
// It is safe for concurrent use.
type Dedupe struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	order *list.List // oldest first; values are *dedupeEntry
	keys  map[string]*list.Element
	now   func() time.Time
}

type dedupeEntry struct {
	key string
	at  time.Time
}

// NewDedupe returns a Dedupe keeping at most max keys for ttl each.
func NewDedupe(ttl time.Duration, max int) *Dedupe {
	if ttl <= 0 {
		ttl = DefaultDedupeTTL
	}
	if max <= 0 {
		max = 100_000
	}
	return &Dedupe{ttl: ttl, max: max, order: list.New(), keys: map[string]*list.Element{}, now: time.Now}
}

// First records key and reports whether this is its first sighting within
// the TTL. An empty key is always a first sighting.
func (d *Dedupe) First(key string) bool {
	if key == "" {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for e := d.order.Front(); e != nil; e = d.order.Front() {
		ent := e.Value.(*dedupeEntry)
		if now.Sub(ent.at) < d.ttl && d.order.Len() < d.max {
			break
		}
		d.order.Remove(e)
		delete(d.keys, ent.key)
	}
	if _, ok := d.keys[key]; ok {
		return false
	}
	d.keys[key] = d.order.PushBack(&dedupeEntry{key: key, at: now})
	return true
}

// Forget removes key, so that a redelivery is processed again (used when
// processing failed and should be retried by the provider).
func (d *Dedupe) Forget(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.keys[key]; ok {
		d.order.Remove(e)
		delete(d.keys, key)
	}
}

// Len returns how many keys are remembered.
func (d *Dedupe) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}
