package switchd

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDupCacheWindow: a key is a duplicate for exactly one window after it
// was first seen, across generation swaps; forget takes it back; the cache
// keeps at most two windows of keys.
func TestDupCacheWindow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	d := newDupCache(time.Minute)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	assert.False(t, d.check(1, at(0)))
	assert.True(t, d.check(1, at(59)), "within the window")
	assert.False(t, d.check(2, at(30)))
	assert.True(t, d.check(2, at(75)), "in the old generation, still within its window")
	assert.False(t, d.check(1, at(61)), "a window later: new again")
	assert.True(t, d.check(1, at(62)))

	assert.False(t, d.check(3, at(100)))
	d.forget(3)
	assert.False(t, d.check(3, at(101)), "forgotten: a retry is not a duplicate")

	assert.False(t, d.check(4, at(200)))
	assert.False(t, d.check(5, at(261)))
	// Keys this small share shard 0 (the shard is the top bits), so 5's
	// check swapped 4's generations as one cache's would.
	s := d.shard(4)
	require.Same(t, s, d.shard(5))
	assert.Equal(t, 1, s.old.n, "only the last window's generation is kept")
	_, held := s.old.get(4)
	assert.True(t, held, "4 is in the old generation")
	assert.Equal(t, 2, dupLen(d), "nothing else is left anywhere")
	assert.True(t, d.check(4, at(259)), "a late arrival within key 4's window")
}

// dupLen counts the keys held in every shard and generation.
func dupLen(d *dupCache) int {
	n := 0
	for i := range d.shards {
		n += d.shards[i].cur.n + d.shards[i].old.n
	}
	return n
}

// inShard returns a key of shard i with low bits low.
func inShard(i int, low uint64) uint64 { return uint64(i)<<(64-dupShardBits) | low }

// TestDupCacheShardSwap: each shard swaps its generations on its own clock,
// and a key's window does not depend on traffic in other shards.
func TestDupCacheShardSwap(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	d := newDupCache(time.Minute)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	a, a2, b := inShard(0, 7), inShard(0, 8), inShard(1, 7)
	require.NotSame(t, d.shard(a), d.shard(b))

	assert.False(t, d.check(a, at(0)))
	assert.False(t, d.check(b, at(50)))
	assert.Equal(t, at(0).UnixNano(), d.shard(a).curStart)
	assert.Equal(t, at(50).UnixNano(), d.shard(b).curStart, "b's shard started its own window")

	assert.False(t, d.check(a2, at(61)), "a window after a's shard began: it swaps")
	assert.Equal(t, at(61).UnixNano(), d.shard(a).curStart)
	assert.Equal(t, 1, d.shard(a).old.n)
	assert.Equal(t, at(50).UnixNano(), d.shard(b).curStart, "other shards keep their generations")
	assert.Equal(t, 1, d.shard(b).cur.n)

	assert.False(t, d.check(a2, at(130)), "a2's window is over")
	_, held := d.shard(a).old.get(a)
	assert.False(t, held, "a was dropped with its generation")
	assert.Equal(t, 1, d.shard(a).old.n, "a2 of the last window is left")
	assert.True(t, d.check(b, at(109)), "b's window runs from 50, whatever shard 0 did")
	assert.False(t, d.check(b, at(110)))
	assert.Equal(t, at(110).UnixNano(), d.shard(b).curStart, "b's shard swapped a window after 50")
	assert.True(t, d.check(b, at(111)))
}

// TestDupCacheKeyZero: the hash 0, which marks an empty slot, is a key like
// any other.
func TestDupCacheKeyZero(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	d := newDupCache(time.Minute)
	assert.False(t, d.check(0, t0))
	assert.True(t, d.check(0, t0.Add(time.Second)))
	assert.Equal(t, 1, dupLen(d))
	d.forget(0)
	assert.Equal(t, 0, dupLen(d))
	assert.False(t, d.check(0, t0.Add(2*time.Second)), "forgotten")
	assert.True(t, d.check(0, t0.Add(3*time.Second)))
	assert.False(t, d.check(0, t0.Add(63*time.Second)), "a window later")
}

// TestDupCacheLikeMaps: with the times of a live switch (never going
// back) the sharded cache answers every check exactly as the single-map
// cache it replaced, forgets included, over many generation swaps.
func TestDupCacheLikeMaps(t *testing.T) {
	const w = time.Minute
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]uint64, 300)
	for i := range pool {
		pool[i] = rng.Uint64() | 2 // not 0: the map cache kept 0 apart from 1
		if i < 20 {
			pool[i] = uint64(i + 1) // small keys: one shard, colliding slots
		}
	}
	d, ref := newDupCache(w), newMapDupCache(w)
	now := time.Unix(1_700_000_000, 0)
	for i := range 200_000 {
		now = now.Add(time.Duration(rng.Int64N(int64(w / 200))))
		k := pool[rng.IntN(len(pool))]
		if rng.IntN(10) == 0 {
			d.forget(k)
			ref.forget(k)
			continue
		}
		require.Equal(t, ref.check(k, now), d.check(k, now), "check %d of key %#x", i, k)
	}
}

// TestDupCacheConcurrent: goroutines checking the same keys at the same
// time see each key new exactly once per window, while shards swap
// generations and tables grow under them. Run with -race.
func TestDupCacheConcurrent(t *testing.T) {
	const (
		goroutines = 8
		keys       = 20_000
		windows    = 3
	)
	d := newDupCache(time.Minute)
	t0 := time.Unix(1_700_000_000, 0)
	for win := range windows {
		now := t0.Add(time.Duration(win) * 61 * time.Second)
		news := make([]atomic.Int32, keys)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), uint64(win)))
				for range 2 {
					for _, i := range rng.Perm(keys) {
						if !d.check(dupTestKey(i), now) {
							news[i].Add(1)
						}
					}
				}
			}()
		}
		wg.Wait()
		for i := range news {
			require.Equal(t, int32(1), news[i].Load(), "window %d key %d reported new", win, i)
		}
	}
}

// dupTestKey spreads i over all shards and slots (splitmix64's finalizer).
func dupTestKey(i int) uint64 {
	z := uint64(i) + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// covers: only an original recent enough that the window must hold it
// proves, by its absence, that the switch never relayed it.
func TestDupWindowCovers(t *testing.T) {
	d := newDupCache(10 * time.Minute)
	now := time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"0101000100", true},  // a minute ago
		{"1231235900", true},  // three minutes ago, last year
		{"0101000300", false}, // a minute ahead: clock skew
		{"1231235000", false}, // 12 minutes ago: older than the window
		{"0101000000", true},  // two minutes ago
		{"0231000000", false}, // not a date
		{"01010001AB", false}, // not digits
		{"0101250000", false}, // hour 25
		{"0101000155", true},  // 5 s ago
		{"0101000201", true},  // 1 s ahead
	} {
		assert.Equal(t, tc.want, d.covers([]byte(tc.at), now), tc.at)
	}
}
