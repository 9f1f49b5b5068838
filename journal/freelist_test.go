package journal

import (
	"testing"
	"testing/synctest"

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
// synctest.Wait returns once the getter has either returned or is blocked
// for good (sync.Cond.Wait), so the first check sees a get that does not
// wait.
func TestFreeListWaitsForAPut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFreeList(1)
		held := f.get()
		got := make(chan *logBatch, 1)
		go func() { got <- f.get() }()
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("get returned with no buffer free")
		default:
		}
		f.put(held)
		require.Same(t, held, <-got)
	})
}
