package switchd

import (
	"sync"
	"time"
)

// inflight counts requests waiting for an issuer. Unlike a WaitGroup it
// may be waited on while requests are still being added (a request can
// be in the middle of routing when shutdown begins).
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{}
}

func (f *inflight) add() {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
}

func (f *inflight) done() {
	f.mu.Lock()
	f.n--
	if f.n == 0 && f.zero != nil {
		close(f.zero)
		f.zero = nil
	}
	f.mu.Unlock()
}

// wait returns true when the count reaches zero, false after d.
func (f *inflight) wait(d time.Duration) bool {
	f.mu.Lock()
	if f.n == 0 {
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

// closeLinger is how long, after the last request in flight is answered,
// a connection keeps reading (and answering 91) before the switch closes
// it: an acquirer gets every answer before it sees the connection close,
// and whatever it sent meanwhile is answered rather than dropped.
const closeLinger = 250 * time.Millisecond
