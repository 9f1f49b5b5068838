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
	n     int       // keys held
}

type dupSlot struct {
	key uint64
	at  int64 // unix nanos first seen
}

// dupMinSlots is the smallest table: small enough that 64 shards of idle
// cache cost little, big enough that a quiet shard does not grow at once.
const dupMinSlots = 16

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

// find returns the slot holding key and true, or the empty slot that ends
// key's probe chain (where an insert goes) and false; -1 if there are no
// slots. The home slot is given by the key's low bits (the shard took the
// top ones).
func (t *dupTable) find(key uint64) (int, bool) {
	if len(t.slots) == 0 {
		return -1, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := key & mask; ; i = (i + 1) & mask {
		switch t.slots[i].key {
		case key:
			return int(i), true
		case 0:
			return int(i), false
		}
	}
}

// get returns when key was first seen, if it is held.
func (t *dupTable) get(key uint64) (int64, bool) {
	if i, ok := t.find(key); ok {
		return t.slots[i].at, true
	}
	return 0, false
}

// insert puts key, not held, into slot i returned by find.
func (t *dupTable) insert(i int, key uint64, at int64) {
	if t.full() {
		t.grow()
		i, _ = t.find(key)
	}
	t.slots[i] = dupSlot{key: key, at: at}
	t.n++
}

// grow doubles the table. It walks every key under the shard's lock, but
// only when a generation outgrows the last one's count (a rising rate, the
// refill at start), and a shard is a 64th of the cache.
func (t *dupTable) grow() {
	old := t.slots
	t.slots = make([]dupSlot, max(2*len(old), dupMinSlots))
	for _, s := range old {
		if s.key != 0 {
			i, _ := t.find(s.key)
			t.slots[i] = s
		}
	}
}

// remove drops key if held. The slots after it up to the next empty one
// may have probed past it: each that may live in the hole (its home is not
// between the hole and itself) moves back into it, leaving a new hole, so
// every key stays reachable from its home without tombstones.
func (t *dupTable) remove(key uint64) {
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
