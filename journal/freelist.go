package journal

import "sync"

// freeList holds the batch buffers not in use, most recently returned
// first. Under normal load only two or three buffers are ever in flight,
// and a LIFO keeps handing out those same few: they stay warm in the CPU
// cache, and only they grow to the batch size. A FIFO (the channel this
// replaced) cycled through all logBuffers of them, so each record was
// staged into memory not touched for 255 writes, and every buffer had to
// grow before the staging path stopped allocating.
//
// get never waits: the writer must not wait for the indexer (follow.go).
// When every buffer is out (the indexer's queue is full) it makes one,
// and put keeps at most cap of them.
type freeList struct {
	mu    sync.Mutex
	items []*logBatch
}

func newFreeList(n int) *freeList {
	f := &freeList{items: make([]*logBatch, 0, n)}
	for range n {
		f.items = append(f.items, &logBatch{})
	}
	return f
}

// get takes the most recently returned buffer, or a new one when none is
// free.
func (f *freeList) get() *logBatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.items) == 0 {
		return &logBatch{}
	}
	lb := f.items[len(f.items)-1]
	f.items[len(f.items)-1] = nil
	f.items = f.items[:len(f.items)-1]
	return lb
}

// put returns a buffer; past the list's capacity it is left to the GC.
func (f *freeList) put(lb *logBatch) {
	f.mu.Lock()
	if len(f.items) < cap(f.items) {
		f.items = append(f.items, lb)
	}
	f.mu.Unlock()
}
