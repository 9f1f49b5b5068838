package switchd

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
	assert.Len(t, d.old, 1, "only the last window's generation is kept")
	assert.Contains(t, d.old, uint64(4))
	assert.True(t, d.check(4, at(259)), "a late arrival within key 4's window")
}
