// Package prefetch asks the CPU to start loading a cache line that will be
// read soon, without waiting for it. A plain load cannot do that far
// ahead: it holds up the instructions behind it once the CPU's window
// fills (~100 ns of work), where a prefetch lets the line arrive while
// unrelated work (the handling of another frame) goes on.
package prefetch
