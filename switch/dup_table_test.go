package switchd

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// put inserts key into t if absent, as the cache does (a check moves a
// step of a growth under way first).
func put(t *dupTable, key uint64, at int64) {
	t.step()
	if _, i, ok := t.lookup(key); !ok {
		t.insert(i, key, at)
	}
}

// requireHolds checks that t holds exactly want (key -> at), every key
// reachable from its home slot.
func requireHolds(t *testing.T, tb *dupTable, want map[uint64]int64) {
	t.Helper()
	require.Equal(t, len(want), tb.n, "count")
	for k, at := range want {
		got, ok := tb.get(k)
		require.True(t, ok, "key %#x findable", k)
		require.Equal(t, at, got, "key %#x", k)
	}
	tb.finish() // a growth under way: every key in slots once it is done
	used := 0
	for _, s := range tb.slots {
		if s.key != 0 {
			used++
		}
	}
	require.Equal(t, len(want), used, "slots in use")
	require.Equal(t, len(want), tb.n, "count")
	for k, at := range want {
		got, ok := tb.get(k)
		require.True(t, ok, "key %#x findable", k)
		require.Equal(t, at, got, "key %#x", k)
	}
}

// TestDupTableProbe: keys with the same home slot line up after it,
// wrapping past the end, and each is found where it went.
func TestDupTableProbe(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keys  []uint64 // inserted in order into a 16-slot table
		slots []int    // where each lands
	}{
		{"no collision", []uint64{3, 5}, []int{3, 5}},
		{"same home", []uint64{3, 3 + 16, 3 + 32}, []int{3, 4, 5}},
		{"chain runs into the next home", []uint64{3, 3 + 16, 4, 5 + 64}, []int{3, 4, 5, 6}},
		{"wraps past the end", []uint64{14, 14 + 16, 15, 15 + 16}, []int{14, 15, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newDupTable(0)
			require.Len(t, tb.slots, 16)
			want := map[uint64]int64{}
			for n, k := range tc.keys {
				i, ok := tb.find(k)
				require.False(t, ok)
				require.Equal(t, tc.slots[n], i, "insert position of %d", k)
				tb.insert(i, k, int64(n))
				want[k] = int64(n)
			}
			for n, k := range tc.keys {
				i, ok := tb.find(k)
				assert.True(t, ok)
				assert.Equal(t, tc.slots[n], i, "slot of %d", k)
			}
			requireHolds(t, &tb, want)
			_, ok := tb.get(tc.keys[0] + 256) // same home, not held
			assert.False(t, ok)
		})
	}
}

// TestDupTableRemove (keys of the table itself, never 0): removing any key of a probe chain, in the middle or
// across the wrap, shifts back the keys that probed past it, so all the
// others stay findable and no tombstone is left.
func TestDupTableRemove(t *testing.T) {
	chains := map[string][]uint64{
		"same home":          {3, 3 + 16, 3 + 32, 3 + 48},
		"mixed homes":        {3, 3 + 16, 4, 3 + 32, 6, 4 + 16, 8},
		"wraps past the end": {14, 14 + 16, 15, 14 + 32, 16, 15 + 16, 1},
		"entry at its home":  {3, 3 + 16, 5, 6, 5 + 16},
	}
	for name, keys := range chains {
		for _, gone := range keys {
			t.Run(fmt.Sprintf("%s/remove %d", name, gone), func(t *testing.T) {
				tb := newDupTable(0)
				want := map[uint64]int64{}
				for n, k := range keys {
					put(&tb, k, int64(n))
					want[k] = int64(n)
				}
				tb.remove(gone)
				delete(want, gone)
				requireHolds(t, &tb, want)
				_, ok := tb.get(gone)
				assert.False(t, ok)
				tb.remove(gone) // not held: nothing changes
				requireHolds(t, &tb, want)
			})
		}
	}
}

// TestDupTableRandom: inserts, removes and growth on a tiny table, with
// a handful of home slots so chains are long, agree with a map.
func TestDupTableRandom(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 0))
		var tb dupTable // nil slots: the first insert allocates
		want := map[uint64]int64{}
		for i := range 2000 {
			k := uint64(rng.IntN(4))<<10 | uint64(rng.IntN(64)) + 1
			if rng.IntN(3) == 0 {
				tb.remove(k)
				delete(want, k)
			} else if _, ok := want[k]; !ok {
				put(&tb, k, int64(i))
				want[k] = int64(i)
			}
		}
		requireHolds(t, &tb, want)
	}
}

// TestDupTableGrow: a table grows by doubling past three quarters load
// and keeps every key; a table sized for n keys takes them without growing.
func TestDupTableGrow(t *testing.T) {
	t.Run("a step at a time", testDupTableGrowsInSteps)
	for _, n := range []int{1, 12, 13, 100, 10_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			tb := newDupTable(0)
			want := map[uint64]int64{}
			for i := range n {
				k := dupTestKey(i)
				put(&tb, k, int64(i))
				want[k] = int64(i)
				require.LessOrEqual(t, tb.n*4, len(tb.slots)*3, "load at most 3/4")
			}
			requireHolds(t, &tb, want)
			assert.Zero(t, len(tb.slots)&(len(tb.slots)-1), "a power of two")

			sized := newDupTable(n)
			before := len(sized.slots)
			for i := range n {
				put(&sized, dupTestKey(i), int64(i))
			}
			assert.Equal(t, before, len(sized.slots), "no growth")
			requireHolds(t, &sized, want)
		})
	}
}

// testDupTableGrowsInSteps: the insert that passes three quarters load
// doubles the array but moves no key; later checks move dupMoveStep slots
// each, and every key stays findable, and its time updatable, meanwhile.
func testDupTableGrowsInSteps(t *testing.T) {
	const size = 4 * dupMoveStep // slots before the growth: four steps to move
	tb := dupTable{slots: make([]dupSlot, size)}
	want := map[uint64]int64{}
	for i := range size - size/4 { // three quarters: full
		put(&tb, dupTestKey(i), int64(i))
		want[dupTestKey(i)] = int64(i)
	}
	require.Nil(t, tb.prev, "no growth yet")
	require.Len(t, tb.slots, size)
	k := dupTestKey(size)
	put(&tb, k, 1)
	want[k] = 1
	require.Len(t, tb.slots, 2*size)
	require.Len(t, tb.prev, size, "the old array, not moved yet")
	require.Zero(t, tb.moved)

	last := dupTestKey(size - size/4 - 1)
	at, _, ok := tb.lookup(last) // not moved yet, wherever it sits
	require.True(t, ok)
	*at = 1000
	want[last] = 1000
	for step := 1; tb.prev != nil; step++ {
		for k, at := range want {
			got, ok := tb.get(k)
			require.True(t, ok, "key %#x findable mid-growth", k)
			require.Equal(t, at, got)
		}
		tb.step()
		if tb.prev != nil {
			require.Equal(t, step*dupMoveStep, tb.moved, "one step a check")
		} else {
			require.Equal(t, 4, step, "four steps")
		}
	}
	requireHolds(t, &tb, want)
}

// TestDupTableRandomGrowth: many growths with checks in between and no
// removal (a removal finishes a growth), against a map.
func TestDupTableRandomGrowth(t *testing.T) {
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var tb dupTable
		want := map[uint64]int64{}
		for i := range 50_000 {
			k := rng.Uint64()>>40 + 1 // repeats: found keys, some in prev
			got, ok := tb.get(k)
			w, held := want[k]
			require.Equal(t, held, ok, "key %#x held", k)
			require.Equal(t, w, got, "key %#x", k)
			if !held {
				put(&tb, k, int64(i))
				want[k] = int64(i)
			}
		}
		requireHolds(t, &tb, want)
	}
}
