package journal

import "unsafe"

// boxes puts the writer's column values into interfaces without a heap
// allocation each. database/sql takes arguments as []any, and converting a
// string or an int64 (>= 256) to an interface allocates a copy: with 19
// columns that was ~16 allocations per journaled transaction, more than the
// rest of the switch's hot path together. Here each value is stored in a
// slot of an array reused from batch to batch, and the interface points at
// the slot.
//
// Safety: an interface's data word is a pointer to its value for strings
// and int64s (neither is pointer-shaped), so an interface built this way is
// exactly what the conversion would have built, except that the value lives
// in our slot instead of a fresh object. The slots are never written while
// an interface pointing at them is in use: the interfaces live in
// inserter.args only during one ExecContext (which does not retain its
// arguments), and reset runs after args is cleared.
type boxes struct {
	strs [rowsPerInsert * entryParams]string
	ints [rowsPerInsert * entryParams]int64
	ns   int
	ni   int
}

// eface is the runtime layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	strType = typeOf("")
	intType = typeOf(int64(0))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

func (b *boxes) str(s string) any {
	if s == "" || b.ns == len(b.strs) {
		return s // "" does not allocate; a full table falls back to the plain conversion
	}
	p := &b.strs[b.ns]
	b.ns++
	*p = s
	var v any
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: strType, data: unsafe.Pointer(p)}
	return v
}

func (b *boxes) int(n int64) any {
	if uint64(n) < 256 || b.ni == len(b.ints) {
		return n // small values use the runtime's static table
	}
	p := &b.ints[b.ni]
	b.ni++
	*p = n
	var v any
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: intType, data: unsafe.Pointer(p)}
	return v
}

// reset frees the slots; the strings are dropped for the GC.
func (b *boxes) reset() {
	clear(b.strs[:b.ns])
	b.ns, b.ni = 0, 0
}
