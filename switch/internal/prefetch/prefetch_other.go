//go:build !amd64

package prefetch

// Line does nothing on this architecture: the read it announces simply
// misses the cache when it comes.
func Line(addr uintptr) {}
