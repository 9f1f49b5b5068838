package issuer

import (
	"errors"
	"sync/atomic"
)

// ErrOffline: the switch took the issuer offline after consecutive
// timeouts (Health); its requests are decided at once, not sent.
var ErrOffline = errors.New("issuer offline after consecutive timeouts")

// Health is an issuer's availability as its links see it: consecutive
// timeouts of requests that need an answer now take it offline
// (offline_after), and any answer in time to one, an 0810 among them,
// brings it back (realTime). One Health is shared by every link of
// an issuer and outlives reloads (the switch keeps one per issuer name),
// so that a reload neither forgets an offline issuer nor its count.
type Health struct {
	offlineAfter atomic.Int64
	timeouts     atomic.Int64
	offline      atomic.Bool
	// onChange is told when the issuer goes offline or comes back, with
	// the consecutive timeouts that did it (0 on the way back). It runs
	// on a link goroutine and must not block.
	onChange func(offline bool, timeouts int64)
}

// NewHealth returns an online Health; onChange may be nil.
func NewHealth(onChange func(offline bool, timeouts int64)) *Health {
	return &Health{onChange: onChange}
}

// SetOfflineAfter sets how many consecutive timeouts take the issuer
// offline; 0 means never, and brings an offline issuer back.
func (h *Health) SetOfflineAfter(n int) {
	h.offlineAfter.Store(int64(n))
	if n <= 0 {
		h.answered()
	}
}

// Offline reports whether the issuer is offline.
func (h *Health) Offline() bool { return h != nil && h.offline.Load() }

// Timeouts is the count of consecutive timeouts now (0 after an answer).
func (h *Health) Timeouts() int64 {
	if h == nil {
		return 0
	}
	return h.timeouts.Load()
}

// timedOut counts one more consecutive timeout.
func (h *Health) timedOut() {
	if h == nil {
		return
	}
	n := h.timeouts.Add(1)
	if after := h.offlineAfter.Load(); after > 0 && n >= after && !h.offline.Swap(true) && h.onChange != nil {
		h.onChange(true, n)
	}
}

// answered: the issuer answered in time. It costs two loads when nothing
// changes: it runs for every answer.
func (h *Health) answered() {
	if h == nil {
		return
	}
	if h.timeouts.Load() != 0 {
		h.timeouts.Store(0)
	}
	if h.offline.Load() && h.offline.Swap(false) && h.onChange != nil {
		h.onChange(false, 0)
	}
}

// realTime reports whether t's outcome tells of the issuer's health: an
// authorization or financial request (0100, 0200) or network management
// (0800). Store-and-forward traffic (reversals, advices) does not: a
// front end may acknowledge advices while the host that authorizes is
// down.
func realTime(t *Txn) bool {
	m := t.MTI
	return m[0] == '0' && m[2] == '0' && (m[1] == '1' || m[1] == '2' || m[1] == '8')
}
