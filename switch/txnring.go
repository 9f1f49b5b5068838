package switchd

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/internal/pan"
	"github.com/cardswitch/cardswitch/journal"
)

// txnRingSize is how many finished transactions the status page can list
// (GET /status/transactions shows the newest 50 that match its filter).
const txnRingSize = 1024

// txnRing keeps the last finished transactions in memory, journal or
// not, for the status page. Writing one is on the answer path, so a slot
// is fixed-size: the masked PAN and the fields are copied into arrays,
// never allocated, and the strings kept (issuer, acquirer, outcome) are
// the configuration's and the journal's constants, not the frame's. Each
// slot has its own lock: writers on different connections rarely meet,
// and a reader copies one slot at a time.
type txnRing struct {
	next  atomic.Uint64 // slots written so far; slot k-1 holds write k
	slots [txnRingSize]txnSlot
}

// txnSlot is one finished transaction; seq is the write that filled it
// (0: never written).
type txnSlot struct {
	mu sync.Mutex
	txnRecord
}

// txnRecord is a slot's content.
type txnRecord struct {
	seq      uint64
	at       time.Time
	latency  time.Duration
	acquirer string
	issuer   string
	outcome  journal.Outcome
	mti      [4]byte
	stan     [6]byte
	rrn      [12]byte
	amount   [12]byte
	code     [3]byte
	pan      [pan.MaxLen]byte
	// how many bytes of each array hold the field
	mtiN, stanN, rrnN, amountN, codeN, panN uint8
}

// put records c's finished transaction a.
func (r *txnRing) put(c *acqConn, a *answer) {
	k := r.next.Add(1)
	sl := &r.slots[(k-1)%txnRingSize]
	f, sp := a.frame, &a.spans
	sl.mu.Lock()
	sl.seq, sl.at, sl.latency, sl.issuer, sl.outcome = k, a.started, a.latency, a.issuer, a.outcome
	sl.acquirer = ""
	if name := c.shownName.Load(); name != nil {
		sl.acquirer = *name
	}
	sl.mtiN = fill(sl.mti[:], sp[spanMTI].In(f))
	sl.stanN = fill(sl.stan[:], sp[spanSTAN].In(f))
	sl.rrnN = fill(sl.rrn[:], sp[spanRRN].In(f))
	sl.amountN = fill(sl.amount[:], sp[spanAmount].In(f))
	sl.codeN = fill(sl.code[:], a.code)
	sl.panN = 0
	if digits := sp[spanPAN].In(f); len(digits) <= pan.MaxLen {
		sl.panN = uint8(len(pan.AppendMasked(sl.pan[:0], digits))) // #nosec G115 -- at most pan.MaxLen
	}
	sl.mu.Unlock()
}

// fill copies what fits of src into dst, a slot's array, and returns how
// much.
func fill[S []byte | string](dst []byte, src S) uint8 {
	return uint8(copy(dst, src)) // #nosec G115 -- dst is a slot's array, at most 19 bytes
}

// each calls f with the recorded transactions, newest first, until f
// returns false.
func (r *txnRing) each(f func(*txnRecord) bool) {
	n := r.next.Load()
	for k := n; k > 0 && n-k < txnRingSize; k-- {
		sl := &r.slots[(k-1)%txnRingSize]
		sl.mu.Lock()
		rec := sl.txnRecord
		sl.mu.Unlock()
		if rec.seq != k {
			continue // overwritten by a newer write meanwhile
		}
		if !f(&rec) {
			return
		}
	}
}
