package switchd

import "math/bits"

// dupTable is one generation of the duplicate cache: a flat
// open-addressing table of (key, first seen) slots with linear probing,
// in place of a Go map. A check then touches the key's home slot and
// usually its neighbours in the same cache line, and the table is a single
// pointer-free slice the GC never scans. Key 0 marks an empty slot (the
// cache maps a real 0 to 1); deletion shifts the rest of the probe chain
// back instead of leaving tombstones, so lookups never walk dead slots.
type dupTable struct {
	slots []dupSlot // len a power of two, or nil before the first insert
	n     int       // keys held, in slots and in the part of prev not yet moved

	// prev is the array a growth is moving keys out of, dupMoveStep slots
	// per check (step). Doubling at once rehashed every key of the shard
	// under its lock: ~1-3 ms per shard at 3 million keys in all, tens of
	// ms at tens of millions, and as keys spread evenly every shard
	// doubled within moments of the others, a burst of ~80 ms of CPU at
	// 3 million keys (more with longer windows) that stalled requests.
	// prev is left intact until the move is done, so a lookup in it stays
	// correct; a key moved is found in slots first.
	prev  []dupSlot
	moved int // prev[:moved] has been moved
}

type dupSlot struct {
	key uint64
	at  int64 // unix nanos first seen
	// link is the link STAN the request went out with (dupCache.sent),
	// which an acquirer's reversal of it must name in its 90; 0 until
	// noted, and for keys refilled from the journal.
	link uint32
}

// dupMinSlots is the smallest table: small enough that 64 shards of idle
// cache cost little, big enough that a quiet shard does not grow at once.
const dupMinSlots = 16

// dupMoveStep is how many slots of prev each check moves. A table of S
// slots grows at 3/4 load into 2S; the next growth comes after another
// 0.75·S inserts, so any step of 2 or more moves prev in time (grow
// finishes a move still under way regardless). A larger step keeps moves
// short, and with them the time in which a new key costs a probe of both
// arrays, while a check moves at most ~50 keys (a microsecond or two).
const dupMoveStep = 64

// newDupTable returns a table holding n keys below two thirds load, so a
// generation as full as the last does not grow and probe chains stay short.
func newDupTable(n int) dupTable {
	want := max(n+n/2, dupMinSlots)
	return dupTable{slots: make([]dupSlot, 1<<bits.Len(uint(want-1)))}
}

// full reports whether one more key would pass three quarters load, past
// which probe chains lengthen quickly.
func (t *dupTable) full() bool {
	return t.n >= len(t.slots)-len(t.slots)/4
}

// find returns the slot of slots holding key and true, or the empty slot
// that ends key's probe chain (where an insert goes) and false; -1 if
// there are no slots. It does not look in prev (lookup does).
func (t *dupTable) find(key uint64) (int, bool) { return findSlot(t.slots, key) }

// findSlot is find in an array of slots. The home slot is given by the
// key's low bits (the shard took the top ones).
func findSlot(slots []dupSlot, key uint64) (int, bool) {
	if len(slots) == 0 {
		return -1, false
	}
	mask := uint64(len(slots) - 1)
	for i := key & mask; ; i = (i + 1) & mask {
		switch slots[i].key {
		case key:
			return int(i), true
		case 0:
			return int(i), false
		}
	}
}

// lookup finds key in slots or, during a growth, in prev: it returns
// where its first-seen time is kept, or the slot of slots an insert of it
// goes to.
func (t *dupTable) lookup(key uint64) (at *int64, i int, found bool) {
	if i, found = t.find(key); found {
		return &t.slots[i].at, i, true
	}
	if j, ok := findSlot(t.prev, key); ok { // prev is nil unless a growth is under way
		return &t.prev[j].at, i, true
	}
	return nil, i, false
}

// slot returns key's slot, in slots or in prev, nil if it is not held.
func (t *dupTable) slot(key uint64) *dupSlot {
	if i, ok := t.find(key); ok {
		return &t.slots[i]
	}
	if j, ok := findSlot(t.prev, key); ok {
		return &t.prev[j]
	}
	return nil
}

// get returns when key was first seen, if it is held.
func (t *dupTable) get(key uint64) (int64, bool) {
	if at, _, ok := t.lookup(key); ok {
		return *at, true
	}
	return 0, false
}

// insert puts key, not held (lookup said so), into slot i returned by
// lookup.
func (t *dupTable) insert(i int, key uint64, at int64) {
	if t.full() {
		t.grow()
		i, _ = t.find(key)
	}
	t.slots[i] = dupSlot{key: key, at: at}
	t.n++
}

// grow doubles the table: the keys move over from prev a step at a time.
func (t *dupTable) grow() {
	t.finish() // only if inserts outran the move (see dupMoveStep)
	if len(t.slots) == 0 {
		t.slots = make([]dupSlot, dupMinSlots)
		return
	}
	t.prev, t.moved = t.slots, 0
	t.slots = make([]dupSlot, 2*len(t.prev))
}

// step moves the next dupMoveStep slots of prev into slots, if a growth
// is under way.
func (t *dupTable) step() {
	if t.prev != nil {
		t.move()
	}
}

// move is step's work, out of line so that step inlines.
func (t *dupTable) move() {
	end := min(t.moved+dupMoveStep, len(t.prev))
	for _, s := range t.prev[t.moved:end] {
		if s.key != 0 {
			i, _ := t.find(s.key)
			t.slots[i] = s
		}
	}
	t.moved = end
	if end == len(t.prev) {
		t.prev, t.moved = nil, 0
	}
}

// finish completes a growth under way.
func (t *dupTable) finish() {
	for t.prev != nil {
		t.step()
	}
}

// remove drops key if held. A growth under way is finished first: removal
// is rare (a request no issuer saw), and then deletes from one array. The
// slots after the key up to the next empty one may have probed past it:
// each that may live in the hole (its home is not between the hole and
// itself) moves back into it, leaving a new hole, so every key stays
// reachable from its home without tombstones.
func (t *dupTable) remove(key uint64) {
	t.finish()
	hole, ok := t.find(key)
	if !ok {
		return
	}
	t.n--
	mask := len(t.slots) - 1
	for i := (hole + 1) & mask; t.slots[i].key != 0; i = (i + 1) & mask {
		home := int(t.slots[i].key) & mask
		// Distances along the probe order, wrapping: the slot may move
		// back if its home is at least as far back as the hole.
		if (i-home)&mask >= (i-hole)&mask {
			t.slots[hole] = t.slots[i]
			hole = i
		}
	}
	t.slots[hole] = dupSlot{}
}
