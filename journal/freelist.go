package journal

import "sync"

// freeList holds the batch buffers not in use, most recently returned
// first. Under normal load only two or three buffers are ever in flight,
// and a LIFO keeps handing out those same few: they stay warm in the CPU
// cache, and only they grow to the batch size. A FIFO (the channel this
// replaced) cycled through all logBuffers of them, so each record was
// staged into memory not touched for 255 writes, and every buffer had to
// grow before the staging path stopped allocating.
type freeList struct {
	mu    sync.Mutex
	cond  sync.Cond // signalled when a buffer is put back
	items []*logBatch
}

func newFreeList(n int) *freeList {
	f := &freeList{items: make([]*logBatch, 0, n)}
	f.cond.L = &f.mu
	for range n {
		f.items = append(f.items, &logBatch{})
	}
	return f
}

// get takes the most recently returned buffer, waiting while the indexer
// holds every one (backpressure).
func (f *freeList) get() *logBatch {
	f.mu.Lock()
	for len(f.items) == 0 {
		f.cond.Wait()
	}
	lb := f.items[len(f.items)-1]
	f.items[len(f.items)-1] = nil
	f.items = f.items[:len(f.items)-1]
	f.mu.Unlock()
	return lb
}

// put returns a buffer.
func (f *freeList) put(lb *logBatch) {
	f.mu.Lock()
	f.items = append(f.items, lb)
	f.mu.Unlock()
	f.cond.Signal()
}
