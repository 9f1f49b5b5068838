package switchd

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mapDupCache is the cache dupCache replaced, kept as a reference: one
// mutex over two generations of Go maps. TestDupCacheLikeMaps checks the
// two answer alike; BenchmarkDupCheck compares their cost.
type mapDupCache struct {
	window atomic.Int64

	mu       sync.Mutex
	cur, old map[uint64]int64
	curStart int64
}

func newMapDupCache(window time.Duration) *mapDupCache {
	d := &mapDupCache{cur: map[uint64]int64{}, old: map[uint64]int64{}}
	d.window.Store(int64(window))
	return d
}

func (d *mapDupCache) check(key uint64, now time.Time) bool {
	at, w := now.UnixNano(), d.window.Load()
	d.mu.Lock()
	defer d.mu.Unlock()
	if at-d.curStart >= w {
		d.old, d.cur, d.curStart = d.cur, make(map[uint64]int64), at
	}
	if first, ok := d.cur[key]; ok && at-first < w {
		return true
	}
	if first, ok := d.old[key]; ok && at-first < w {
		return true
	}
	d.cur[key] = at
	return false
}

func (d *mapDupCache) forget(key uint64) {
	d.mu.Lock()
	delete(d.cur, key)
	delete(d.old, key)
	d.mu.Unlock()
}

// dupBench drives one cache with a steady stream of requests: keysPerWindow
// new keys per window (so the cache holds one to two windows of them), one
// in a hundred a retransmission of a request a thousand back. Request i
// arrives at t0 + i*step, and the stream goes on across runs, so the cache
// stays in its steady state.
type dupBench struct {
	c interface {
		check(uint64, time.Time) bool
	}
	next atomic.Int64 // next request
	once sync.Once
}

const (
	dupBenchWindow        = 10 * time.Minute
	dupBenchKeysPerWindow = 2_000_000
	dupBenchStep          = int64(dupBenchWindow) / dupBenchKeysPerWindow
)

var dupBenchT0 = time.Unix(1_700_000_000, 0).UnixNano()

func (r *dupBench) request(i int64) {
	k := i
	if i%100 == 0 && i >= 1000 {
		k = i - 1000
	}
	r.c.check(dupTestKey(int(k)), time.Unix(0, dupBenchT0+i*dupBenchStep))
}

// fill brings the cache to its steady state, both generations full.
func (r *dupBench) fill() {
	r.once.Do(func() {
		n := int64(2*dupBenchKeysPerWindow + dupBenchKeysPerWindow/2)
		for i := range n {
			r.request(i)
		}
		r.next.Store(n)
	})
}

// BenchmarkDupCheck: a check in a cache of a few million keys, alone and
// from four goroutines at once (several acquirers), for the map cache and
// the sharded one.
func BenchmarkDupCheck(b *testing.B) {
	for _, impl := range []struct {
		name string
		r    *dupBench
	}{
		{"map", &dupBench{c: newMapDupCache(dupBenchWindow)}},
		{"sharded", &dupBench{c: newDupCache(dupBenchWindow)}},
	} {
		b.Run(impl.name+"/serial", func(b *testing.B) {
			r := impl.r
			r.fill()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				r.request(r.next.Add(1))
			}
		})
		b.Run(impl.name+"/parallel", func(b *testing.B) {
			r := impl.r
			r.fill()
			b.ReportAllocs()
			b.SetParallelism(2)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// Requests in runs of 256 keep the shared counter's cache
				// line out of the measurement.
				var i, end int64
				for pb.Next() {
					if i == end {
						end = r.next.Add(256)
						i = end - 256
					}
					r.request(i)
					i++
				}
			})
		})
	}
}

// BenchmarkDupGrowth: checks of new keys into a fresh cache, so its tables
// keep doubling (the first window after a start, or a rising rate). It
// reports the longest single check: a doubling used to rehash a whole
// shard under its lock (~3 ms a shard at 3.5 million keys, every shard
// within moments of the others); the keys now move a step per check.
func BenchmarkDupGrowth(b *testing.B) {
	d := newDupCache(dupBenchWindow)
	now := time.Unix(0, dupBenchT0)
	var longest time.Duration
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		d.check(dupTestKey(i), now)
		longest = max(longest, time.Since(t0))
	}
	b.ReportMetric(float64(longest.Microseconds()), "longest-µs")
}
