package switchd

import (
	"unsafe"

	"github.com/cardswitch/cardswitch/switch/internal/prefetch"
)

// The duplicate check's probe is a DRAM miss per request (its tables hold
// millions of keys). A prefetch issued with the request's own check comes
// too little ahead of the probe to hide the miss. When the next frame is already in
// the connection's read buffer, the read loop scans it and prefetches its
// slots before handling the current frame (scanAhead): the line then
// arrives during a whole frame's handling.

// dupHint is where a shard's generations keep their slots, for prefetch
// only: read without the lock, it may be stale (a table replaced since),
// and a stale address only makes a useless prefetch, which never faults.
// Addresses are uintptrs so that the garbage collector ignores them.
type dupHint struct {
	cur, old         uintptr
	curMask, oldMask uint64
}

// refreshHint publishes the generations' current arrays; under s.mu.
func (s *dupShard) refreshHint() {
	cur, old := slotsAddr(s.cur.slots), slotsAddr(s.old.slots)
	if h := s.hint.Load(); h != nil && h.cur == cur && h.old == old {
		return
	}
	s.hint.Store(&dupHint{cur: cur, old: old, curMask: slotsMask(s.cur.slots), oldMask: slotsMask(s.old.slots)})
}

func slotsAddr(slots []dupSlot) uintptr {
	if len(slots) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(&slots[0]))
}

func slotsMask(slots []dupSlot) uint64 {
	if len(slots) == 0 {
		return 0
	}
	return uint64(len(slots) - 1)
}

// prefetch starts loading key's home slots in both generations, so that
// a check of key soon after does not wait for memory.
func (d *dupCache) prefetch(key uint64) {
	key = dupSlotKey(key)
	h := d.shard(key).hint.Load()
	if h == nil {
		return
	}
	const slot = unsafe.Sizeof(dupSlot{})
	if h.cur != 0 {
		prefetch.Line(h.cur + uintptr(key&h.curMask)*slot)
	}
	if h.old != 0 {
		prefetch.Line(h.old + uintptr(key&h.oldMask)*slot)
	}
}
