package journal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFreeListIsLIFO: the buffer returned last is handed out first, so a
// lightly loaded journal keeps reusing the same warm buffers.
func TestFreeListIsLIFO(t *testing.T) {
	f := newFreeList(3)
	a, b := f.get(), f.get()
	require.NotSame(t, a, b)
	f.put(a)
	f.put(b)
	require.Same(t, b, f.get())
	require.Same(t, a, f.get())
}

// TestFreeListNeverWaits: with every buffer taken, get makes a new one
// (the writer never waits for the indexer), and put keeps no more than
// the list's capacity.
func TestFreeListNeverWaits(t *testing.T) {
	f := newFreeList(1)
	held := f.get()
	extra := f.get()
	require.NotSame(t, held, extra)
	f.put(held)
	f.put(extra)
	require.Len(t, f.items, 1)
}
