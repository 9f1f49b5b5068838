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
type dupCache struct {
	window atomic.Int64 // time.Duration; a reload may change it
	seed   maphash.Seed

	mu    sync.Mutex
	seen  map[uint64]int64 // key -> unix nanos first seen
	order []dupItem        // in arrival order, for expiry
	head  int
}

type dupItem struct {
	key uint64
	at  int64
}

func newDupCache(window time.Duration) *dupCache {
	d := &dupCache{seed: maphash.MakeSeed(), seen: make(map[uint64]int64)}
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
	at := now.UnixNano()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(at)
	if first, ok := d.seen[key]; ok && at-first < d.window.Load() {
		return true
	}
	d.seen[key] = at
	d.order = append(d.order, dupItem{key, at})
	return false
}

func (d *dupCache) expire(now int64) {
	for d.head < len(d.order) && now-d.order[d.head].at >= d.window.Load() {
		it := d.order[d.head]
		if d.seen[it.key] == it.at {
			delete(d.seen, it.key)
		}
		d.head++
	}
	if d.head > 4096 && d.head*2 > len(d.order) {
		n := copy(d.order, d.order[d.head:])
		d.order, d.head = d.order[:n], 0
	}
}

// forget drops key, recorded by check for a request that then never
// reached an issuer. Its expiry entry stays and is skipped when it comes.
func (d *dupCache) forget(key uint64) {
	d.mu.Lock()
	delete(d.seen, key)
	d.mu.Unlock()
}
