package issuer

// A request whose Recorder claimed its duplicate key across switch nodes
// is queued with an id (vetID) the link's writer hands back, once the gate
// has committed the claim, to vet: the link asks the Recorder whether the
// claim was taken, and a request that lost it (a duplicate another node
// sent, or a claim the journal could not write) is left out of the batch
// and failed with the Recorder's error, never having reached the issuer.

// vetSTANBits hold the link STAN in a vet id (STANs are below 10^6 < 2^20);
// the request's sequence number takes the rest, telling it from an
// earlier request of the same STAN.
const vetSTANBits = 20

func vetID(stan uint32, seq uint64) uint64 { return seq<<vetSTANBits | uint64(stan) }

// vet reports whether the request queued under id must be dropped, and
// fails it (Recorder.Claimed's error) when it is still pending. One that
// timed out while the gate waited (remembered as late) has been failed
// already: it is dropped without a second answer.
func (l *Link) vet(id uint64) bool {
	stan, seq := uint32(id&(1<<vetSTANBits-1)), id>>vetSTANBits // #nosec G115 -- masked
	l.mu.Lock()
	t, pending := l.pending[stan], true
	if t == nil || t.seq != seq {
		t, pending = l.late[stan], false
	}
	if t == nil || t.seq != seq {
		l.mu.Unlock()
		return false
	}
	rec, _ := t.Owner.(Recorder)
	err := rec.Claimed(t)
	if err == nil {
		l.mu.Unlock()
		return false
	}
	if pending {
		l.answered(t)
	} else {
		l.lateAnswered(t)
	}
	l.mu.Unlock()
	if pending {
		t.Owner.Fail(t, err)
	}
	return true
}
