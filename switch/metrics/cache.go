package metrics

import (
	"sync"
	"sync/atomic"
)

// cowMap is a copy-on-write map. A hit is an atomic load plus a map read,
// with no lock and no allocation; a miss copies the map under a mutex. That
// trade suits label sets that stop growing after warm-up, which is what the
// hot path sees (a few MTIs x issuers x response codes).
type cowMap[K comparable, V any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[K]V]
}

func (c *cowMap[K, V]) load(k K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// loadOrStore returns the value for k, calling create (under the lock) only
// when no other caller has stored one yet.
func (c *cowMap[K, V]) loadOrStore(k K, create func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	next := make(map[K]V, mapLen(old)+1)
	if old != nil {
		for ok, ov := range *old {
			next[ok] = ov
		}
	}
	v := create()
	next[k] = v
	c.m.Store(&next)
	return v
}

func mapLen[K comparable, V any](m *map[K]V) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
