package switchd

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
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
// one table handed to the GC, not a walk, and nothing grows but the tables
// (an arrival-order list of millions of entries would have to be grown or
// walked under the lock, stalling every request).
//
// Every request checks the cache, from several acquirer goroutines at
// once, and the tables hold millions of keys: one lock would be handed off
// between cores at every request, and a Go map costs several cache misses
// per probe. So the cache is split by the top bits of the key into shards, each with
// its own mutex and its own generations (and its own clock of when cur
// began: a key only ever meets its own shard, so a key is still a
// duplicate for exactly one window after it was first seen), and each
// generation is a flat open-addressing table (dup_table.go): a check is one
// probe of cur, which finds the key or the slot to insert it into, and one
// of old, about two cache misses.
type dupCache struct {
	window atomic.Int64 // time.Duration; a reload may change it
	seed   maphash.Seed
	shards [dupShards]dupShard
}

// dupShardBits top bits of a key pick its shard; the table slot comes from
// the low bits, so the two are independent.
const (
	dupShardBits = 6
	dupShards    = 1 << dupShardBits
)

// dupShard is one lock's worth of the cache. The leading pad keeps the
// state of two shards out of one cache line whatever the array's
// alignment, so goroutines on different shards do not bounce lines.
type dupShard struct {
	_ [64]byte // a cache line
	// hint is read without the lock, by prefetch; it sits on a line of its
	// own so that taking mu on the other core does not pull it away.
	hint     atomic.Pointer[dupHint]
	_        [56]byte
	mu       sync.Mutex
	cur, old dupTable // key -> unix nanos first seen
	curStart int64    // when cur began collecting
}

func newDupCache(window time.Duration) *dupCache {
	d := &dupCache{seed: maphash.MakeSeed()}
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
	key = dupSlotKey(key)
	s := d.shard(key)
	s.mu.Lock()
	dup := s.check(key, at, w)
	s.mu.Unlock()
	return dup
}

// sent notes the link STAN the request with key (recorded by check) went
// out with, for a reversal of it to name (original). Only relayed
// requests pay for it: one more lock of the shard, whose slot the check
// just brought into cache.
func (d *dupCache) sent(key uint64, linkSTAN uint32) {
	key = dupSlotKey(key)
	s := d.shard(key)
	s.mu.Lock()
	if sl := s.cur.slot(key); sl != nil {
		sl.link = linkSTAN
	} else if sl := s.old.slot(key); sl != nil {
		sl.link = linkSTAN
	}
	s.mu.Unlock()
}

// original returns the link STAN of the request with key if it was
// relayed within the window: ok false when it was not (the switch
// answered it itself, it is older than the window, or it was never
// seen); linkSTAN 0 when it was relayed by an earlier run (refilled
// from the journal, which does not keep link STANs).
func (d *dupCache) original(key uint64, now time.Time) (linkSTAN uint32, ok bool) {
	at, w := now.UnixNano(), d.window.Load()
	key = dupSlotKey(key)
	s := d.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range [2]*dupTable{&s.cur, &s.old} {
		if sl := t.slot(key); sl != nil && at-sl.at < w {
			return sl.link, true
		}
	}
	return 0, false
}

// originalKey is the key (as key makes it) of the original request that
// field 90 of the reversal scanned into v names: its MTI class, STAN and
// transmission date-time from 90, the terminal (41) and RRN (37) from the
// reversal, which carries its original's. false: no 90 to read them from.
func (d *dupCache) originalKey(acquirer string, v *iso.View) (uint64, bool) {
	f := v.Field(90)
	if len(f) != 42 {
		return 0, false
	}
	var h maphash.Hash
	h.SetSeed(d.seed)
	d.write(&h, acquirer, f[:3], f[4:10], v.Field(41), v.Field(37), f[10:20])
	return h.Sum64(), true
}

// forget drops key, recorded by check for a request that then never
// reached an issuer.
func (d *dupCache) forget(key uint64) {
	key = dupSlotKey(key)
	s := d.shard(key)
	s.mu.Lock()
	s.cur.remove(key)
	s.old.remove(key)
	s.mu.Unlock()
}

func (d *dupCache) shard(key uint64) *dupShard {
	return &d.shards[key>>(64-dupShardBits)]
}

// dupSlotKey maps the hash 0, which marks an empty slot, to 1: the two
// then collide like any two hashes may.
func dupSlotKey(key uint64) uint64 {
	if key == 0 {
		return 1
	}
	return key
}

// check is dupCache.check under the shard's lock, at unix nanos with
// window w.
func (s *dupShard) check(key uint64, at, w int64) bool {
	if at-s.curStart >= w {
		// The new generation is sized for what the last one held, so in
		// steady traffic it never grows (a growth moves keys a step per
		// check, and new keys probe both arrays while it does). Its
		// allocation is zeroed under the lock: once per window per shard,
		// a few ms per million keys in the shard, and only requests hashed
		// to this shard wait for it.
		s.old, s.cur, s.curStart = s.cur, newDupTable(s.cur.n), at
		s.refreshHint()
	}
	s.cur.step() // a growth under way moves a few more keys
	first, i, found := s.cur.lookup(key)
	if found && at-*first < w {
		return true
	}
	if seen, ok := s.old.get(key); ok && at-seen < w {
		return true
	}
	if found {
		*first = at // seen more than a window ago: first seen now
		return false
	}
	s.cur.insert(i, key, at)
	s.refreshHint() // the insert may have grown cur
	return false
}

// originalSkew is how far an acquirer's clock may be from the switch's
// before the window's cover of an original is in doubt.
const originalSkew = time.Minute

// covers reports whether the window must hold a request first seen at the
// transmission date-time mmddhhmmss (field 7 of an original, as 90 names
// it; UTC, the year the one that puts it nearest now): only then does the
// window's not knowing it prove the switch never relayed it. An older
// original, or a date-time that does not parse, is not covered: its
// reversal is relayed as the acquirer sent it, for the issuer to judge,
// since a refused reversal could leave a cardholder's funds held.
func (d *dupCache) covers(mmddhhmmss []byte, now time.Time) bool {
	var n [5]int
	for i := range n {
		a, b := mmddhhmmss[2*i], mmddhhmmss[2*i+1]
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return false
		}
		n[i] = int(a-'0')*10 + int(b-'0')
	}
	now = now.UTC()
	t := time.Date(now.Year(), time.Month(n[0]), n[1], n[2], n[3], n[4], 0, time.UTC)
	if t.Month() != time.Month(n[0]) || t.Day() != n[1] || n[2] > 23 || n[3] > 59 || n[4] > 59 {
		return false // not a date (time.Date normalises 0231 to March)
	}
	if t.Sub(now) > 183*24*time.Hour {
		t = t.AddDate(-1, 0, 0)
	} else if now.Sub(t) > 183*24*time.Hour {
		t = t.AddDate(1, 0, 0)
	}
	skew := min(originalSkew, time.Duration(d.window.Load())/4)
	age := now.Sub(t)
	return age > -skew && age < time.Duration(d.window.Load())-skew
}
