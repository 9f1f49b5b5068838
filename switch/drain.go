package switchd

import (
	"sync"
	"sync/atomic"
	"time"
)

// inflight counts requests waiting for an issuer. Unlike a WaitGroup it
// may be waited on while requests are still being added (a request can
// be in the middle of routing when shutdown begins). The count is atomic,
// so a request costs no lock; mu only guards the channel of a waiter.
type inflight struct {
	n    atomic.Int64
	mu   sync.Mutex
	zero chan struct{}
}

func (f *inflight) add() { f.n.Add(1) }

// tryAdd adds one unless that would pass limit: one atomic add, and one
// more to undo it on refusal. A refusal goes through done, so that a
// waiter for zero is not left behind by the brief excess.
func (f *inflight) tryAdd(limit int64) bool {
	if f.n.Add(1) > limit {
		f.done()
		return false
	}
	return true
}

func (f *inflight) done() {
	if f.n.Add(-1) != 0 {
		return
	}
	f.mu.Lock()
	// Re-checked under mu: should a request have been added since the
	// count hit zero, the waiter keeps waiting, for the next zero. A zero
	// reached before a waiter registers, wait sees itself (it reads the
	// count under mu).
	if f.zero != nil && f.n.Load() == 0 {
		close(f.zero)
		f.zero = nil
	}
	f.mu.Unlock()
}

// wait returns true when the count reaches zero, false after d.
func (f *inflight) wait(d time.Duration) bool {
	f.mu.Lock()
	if f.n.Load() == 0 {
		f.mu.Unlock()
		return true
	}
	if f.zero == nil {
		f.zero = make(chan struct{})
	}
	ch := f.zero
	f.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}
