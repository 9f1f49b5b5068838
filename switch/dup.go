package switchd

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/journal"
)

// dupCache remembers the requests of the last window to answer a
// retransmission with 94 instead of authorizing it twice. A request is the
// same when acquirer, message class, STAN (11), terminal (41), RRN (37) and
// transmission date-time (7) are. Keys are 64-bit hashes (a collision is
// about 1 in 10^6 even at tens of millions of entries) so the cache stays
// small at high rates; at start it is refilled from the journal, so a
// restart does not open a window for duplicates.
//
// Keys live in two generations of one window each: new keys go into cur;
// once cur has collected for a window, every key in old is more than a
// window old, so old is dropped whole and cur becomes old. Expiry is then
// one map handed to the GC, not a walk, and nothing grows but the maps
// (an arrival-order slice of millions of entries, doubled under the lock,
// stalled every request for milliseconds).
type dupCache struct {
	window atomic.Int64 // time.Duration; a reload may change it
	seed   maphash.Seed

	mu       sync.Mutex
	cur, old map[uint64]int64 // key -> unix nanos first seen
	curStart int64            // when cur began collecting
}

func newDupCache(window time.Duration) *dupCache {
	d := &dupCache{seed: maphash.MakeSeed(), cur: map[uint64]int64{}, old: map[uint64]int64{}}
	d.window.Store(int64(window))
	return d
}

// key hashes the identifying fields of a request.
func (d *dupCache) key(acquirer string, v *iso.View) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	d.write(&h, acquirer, v.MTI()[:3], v.Field(11), v.Field(41), v.Field(37), v.Field(7))
	return h.Sum64()
}

func (d *dupCache) keyOf(k journal.DupKey, mti string) uint64 {
	var h maphash.Hash
	h.SetSeed(d.seed)
	d.write(&h, k.Acquirer, []byte(mti[:3]), []byte(k.STAN), []byte(k.Terminal), []byte(k.RRN), []byte(k.TransmissionTime))
	return h.Sum64()
}

func (d *dupCache) write(h *maphash.Hash, acquirer string, parts ...[]byte) {
	_, _ = h.WriteString(acquirer)
	for _, p := range parts {
		_ = h.WriteByte(0)
		_, _ = h.Write(p)
	}
}

// check reports whether key was seen within the window; if not, it is
// recorded as seen now.
func (d *dupCache) check(key uint64, now time.Time) bool {
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

// forget drops key, recorded by check for a request that then never
// reached an issuer.
func (d *dupCache) forget(key uint64) {
	d.mu.Lock()
	delete(d.cur, key)
	delete(d.old, key)
	d.mu.Unlock()
}
