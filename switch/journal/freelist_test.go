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

// TestFreeListWaitsForAPut: with every buffer taken, get waits for the
// next put (the backpressure the writer relies on) and gets that buffer.
func TestFreeListWaitsForAPut(t *testing.T) {
	f := newFreeList(1)
	held := f.get()
	got := make(chan *logBatch)
	go func() { got <- f.get() }()
	select {
	case <-got:
		t.Fatal("get returned with no buffer free")
	default:
	}
	f.put(held)
	require.Same(t, held, <-got)
}
