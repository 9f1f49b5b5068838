package prefetch

// Line starts loading the cache line holding addr into every cache level
// (PREFETCHT0). It never faults, so any address is safe to pass; one that
// does not map is ignored. addr is a uintptr so that a stale address is
// never seen by the garbage collector as a pointer.
//
//go:noescape
func Line(addr uintptr)
