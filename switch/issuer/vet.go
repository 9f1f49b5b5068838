package issuer

// A request whose Recorder claimed its duplicate key across switch nodes
// is queued with an id (vetID) the link's writer hands back, once the gate
// has committed the claim, to vet: the link asks the Recorder whether the
// claim was taken, and a request that lost it (a duplicate another node
// sent, or a claim the journal could not write) is left out of the batch
// and failed with the Recorder's error, never having reached the issuer.
//
// Until then the request has not been written, and may never be: its
// timeout does not fail it (sweep leaves it pending past its deadline,
// awaitingVet), or its owner would reverse a request the issuer never got
// (with a lost claim, the other node's, approved). Its vet decides: a lost
// claim fails it as unsent, a won one that is overdue times it out as it
// goes out. The gate's write is bounded by the journal's write timeout. A
// teardown that finds it still waiting fails it as unsent (ErrNotSent,
// link.go) whatever its claim turns out to be.

// vetSTANBits hold the link STAN in a vet id (STANs are below 10^6 < 2^20);
// the request's sequence number takes the rest, telling it from an
// earlier request of the same STAN.
const vetSTANBits = 20

func vetID(stan uint32, seq uint64) uint64 { return seq<<vetSTANBits | uint64(stan) }

// vet reports whether the request queued under id must be dropped. One
// still pending whose claim was lost is failed (Recorder.Claimed's
// error); one whose claim was won and whose deadline passed meanwhile
// times out now, on its way out. One no longer pending was let go by a
// teardown, unsent (ErrNotSent), its owner told: it is dropped, its
// claim's result left to the journal's expiry.
func (l *Link) vet(id uint64) bool {
	stan, seq := uint32(id&(1<<vetSTANBits-1)), id>>vetSTANBits // #nosec G115 -- masked
	l.mu.Lock()
	t := l.pending[stan]
	if t == nil || t.seq != seq {
		l.mu.Unlock()
		return true
	}
	rec, _ := t.Owner.(Recorder)
	err := rec.Claimed(t)
	t.marks &^= awaitingVet
	drop := err != nil
	switch {
	case drop:
		l.answered(t)
	case !l.fifo.holds(seq): // overdue
		delete(l.pending, stan)
		l.remember(stan, t, l.now()) // its answer, when it comes, is late
		l.notifyIdle()
		err = ErrTimeout
	}
	l.mu.Unlock()
	if err != nil {
		// An overdue request's timeout is not counted against the
		// issuer's health: the journal held it, not the issuer.
		t.Owner.Fail(t, err)
	}
	return drop
}
