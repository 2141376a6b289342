package state

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// MaxMemoryClaims bounds the keys a memory store remembers; past it the
// oldest is forgotten first (a redelivery that old is then processed
// again). At 32 bytes a key plus bookkeeping, the bound is about 10 MB.
const MaxMemoryClaims = 100_000

// Memory returns a new in-process store: claims in a bounded map, rate
// windows in each client's transport, events processed in process. It is
// the default; see the package documentation for what it does not do
// across replicas or crashes.
func Memory() *Store {
	return New(&memoryDriver{claims: newMemoryClaims(MaxMemoryClaims), values: newMemoryValues(MaxMemoryValues)})
}

type memoryDriver struct {
	claims *memoryClaims
	values *memoryValues
}

func (d *memoryDriver) Limits() Limits   { return nil }
func (d *memoryDriver) Claims() Claims   { return d.claims }
func (d *memoryDriver) Events() EventLog { return nil }
func (d *memoryDriver) Values() Values   { return d.values }
func (d *memoryDriver) Name() string     { return "memory" }
func (d *memoryDriver) Close() error     { return nil }

// memoryClaims is a TTL set of keys, bounded, oldest evicted first.
type memoryClaims struct {
	mu    sync.Mutex
	max   int
	order *list.List // oldest first; values are *claim
	keys  map[Key]*list.Element
	now   func() time.Time
}

type claim struct {
	key     Key
	expires time.Time
}

func newMemoryClaims(max int) *memoryClaims {
	return &memoryClaims{max: max, order: list.New(), keys: map[Key]*list.Element{}, now: time.Now}
}

func (m *memoryClaims) Claim(_ context.Context, key Key, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if e, ok := m.keys[key]; ok {
		if now.Before(e.Value.(*claim).expires) {
			return false, nil
		}
		m.order.Remove(e)
		delete(m.keys, key)
	}
	// Expired claims at the front go first, then the oldest past the bound.
	for e := m.order.Front(); e != nil; e = m.order.Front() {
		c := e.Value.(*claim)
		if now.Before(c.expires) && m.order.Len() < m.max {
			break
		}
		m.order.Remove(e)
		delete(m.keys, c.key)
	}
	m.keys[key] = m.order.PushBack(&claim{key: key, expires: now.Add(ttl)})
	return true, nil
}

func (m *memoryClaims) Release(_ context.Context, key Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.keys[key]; ok {
		m.order.Remove(e)
		delete(m.keys, key)
	}
	return nil
}

// Len returns how many claims are held (tests, stats).
func (m *memoryClaims) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}

// MaxMemoryValues bounds the values a memory store keeps; past it the
// oldest set is forgotten first.
const MaxMemoryValues = 100_000

// memoryValues is a bounded TTL map, oldest set evicted first.
type memoryValues struct {
	mu    sync.Mutex
	max   int
	order *list.List // oldest set first; values are *value
	items map[Key]*list.Element
	now   func() time.Time
}

type value struct {
	key     Key
	v       []byte
	expires time.Time
}

func newMemoryValues(max int) *memoryValues {
	return &memoryValues{max: max, order: list.New(), items: map[Key]*list.Element{}, now: time.Now}
}

func (m *memoryValues) Set(_ context.Context, key Key, v []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set(key, v, ttl)
	return nil
}

func (m *memoryValues) SetIfAbsent(_ context.Context, key Key, v []byte, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.items[key]; ok && m.now().Before(e.Value.(*value).expires) {
		return false, nil
	}
	m.set(key, v, ttl)
	return true, nil
}

// set stores v under key; m.mu is held.
func (m *memoryValues) set(key Key, v []byte, ttl time.Duration) {
	if e, ok := m.items[key]; ok {
		m.order.Remove(e)
	}
	m.items[key] = m.order.PushBack(&value{key: key, v: append([]byte(nil), v...), expires: m.now().Add(ttl)})
	for m.order.Len() > m.max {
		old := m.order.Front()
		m.order.Remove(old)
		delete(m.items, old.Value.(*value).key)
	}
}

func (m *memoryValues) Get(_ context.Context, key Key) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.items[key]
	if !ok {
		return nil, false, nil
	}
	val := e.Value.(*value)
	if !m.now().Before(val.expires) {
		m.order.Remove(e)
		delete(m.items, key)
		return nil, false, nil
	}
	return append([]byte(nil), val.v...), true, nil
}
