package issuer

import (
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
)

// Send puts t on this link: it gets a link STAN (field 11, at stanOff in
// t.Frame, rewritten only in the copy that goes out) and a deadline.
// On error nothing was sent and the Owner will not be called.
func (l *Link) Send(t *Txn, stanOff int) error { return l.send(t, stanOff, nil) }

// send is Send; with held set the request is queued without waking the
// link's writer (wire.Writer.QueueHeld): its caller wakes it with the rest
// of its burst.
func (l *Link) send(t *Txn, stanOff int, held *wire.Held) error {
	if !l.up.Load() {
		return ErrNoLink
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.out == nil {
		return ErrNoLink
	}
	stan, err := l.register(t)
	if err != nil {
		return err
	}
	field := t.Frame[stanOff : stanOff+6]
	putSTAN(field, stan)
	out, err := l.outgoing(t)
	if err != nil {
		copy(field, t.STAN[:])
		l.unregister(t)
		return err
	}
	var ticket, vet uint64
	rec, recorded := t.Owner.(Recorder)
	if recorded {
		var claimed bool
		if ticket, claimed = rec.Record(t, stan); claimed {
			vet = vetID(stan, t.seq)
		}
	}
	// The translated bytes (STAN already in) are what goes out; held nil
	// wakes the writer at once.
	err = l.out.QueueVetted(nil, out, ticket, vet, held)
	copy(field, t.STAN[:]) // the Txn keeps the acquirer's own frame
	if err != nil {
		if recorded {
			rec.Unrecord(t)
		}
		l.unregister(t)
		return err
	}
	if vet != 0 {
		t.marks |= awaitingVet // l.mu held: the writer's vet waits for it
	}
	return nil
}

// Carrier is an Owner that keeps its transaction's iso.Carry: what a
// translation to the canonical form could not hold. The link passes it to
// its Translator (FromCanon of the request, ToCanon of the answer).
type Carrier interface {
	Carry() *iso.Carry
}

// carryOf is t's Carry, nil when its owner keeps none.
func carryOf(t *Txn) *iso.Carry {
	if c, ok := t.Owner.(Carrier); ok {
		return c.Carry()
	}
	return nil
}

// outgoing is t's frame as the issuer gets it: t.Frame itself, or its
// translation into the issuer's dialect (into l.sendBuf; l.mu held). A
// field the dialect cannot express is an *iso.TranslateError.
func (l *Link) outgoing(t *Txn) ([]byte, error) {
	tr := l.cfg.Translator
	if tr == nil {
		return t.Frame, nil
	}
	out, err := tr.FromCanon(l.sendBuf[:0], t.Frame, carryOf(t))
	l.count(err != nil)
	if err != nil {
		return nil, err
	}
	l.sendBuf = out[:0]
	return out, nil
}

// translated is msg (canonical, from the link's side) in the issuer's
// dialect, in a buffer of its own: for the link's own messages.
func (l *Link) translated(msg []byte) ([]byte, error) {
	if tr := l.cfg.Translator; tr != nil {
		out, err := tr.FromCanon(nil, msg, nil)
		l.count(err != nil)
		return out, err
	}
	return msg, nil
}

// Recorder is an Owner that records its request before it goes out (the
// switch's journal): Record, called with the link STAN the issuer will
// see, returns the ticket the link's writer passes to its gate
// (LinkConfig.Gate) before it writes the request, 0 for none. Unrecord
// undoes it when the request did not go out after all. Both are called
// with the link's lock held and must not block on the link.
//
// claimed means the record claims the request's duplicate key across
// switch nodes, which the gate's write decides: past the gate the link
// asks Claimed whether the request may go out (nil), and fails it with
// Claimed's error, unsent, otherwise (vet.go).
type Recorder interface {
	Record(t *Txn, linkSTAN uint32) (ticket uint64, claimed bool)
	Unrecord(t *Txn)
	Claimed(t *Txn) error
}

// register assigns a free link STAN and records t as pending. l.mu held.
// A STAN held by a pending or remembered request is never assigned: when
// none is free, even after forgetting what may be forgotten, the link
// refuses (ErrNoSTAN).
func (l *Link) register(t *Txn) (uint32, error) {
	if len(l.pending) >= l.cfg.MaxInFlight {
		return 0, ErrBusy
	}
	stan, ok := l.stans.take()
	if !ok {
		l.forgetLate(l.now())
		if stan, ok = l.stans.take(); !ok {
			return 0, ErrNoSTAN
		}
	}
	l.seq++
	t.linkSTAN, t.seq = stan, l.seq
	l.pending[stan] = t
	l.fifo.push(entry{stan: stan, seq: t.seq, deadline: l.now() + l.timeout.Load()})
	return stan, nil
}

// unregister undoes register (nothing was sent). l.mu held.
func (l *Link) unregister(t *Txn) {
	delete(l.pending, t.linkSTAN)
	l.stans.free(t.linkSTAN)
	l.fifo.done(t.seq)
	l.notifyIdle()
}

// answered removes t, pending under its STAN, now that its answer came.
// l.mu held.
func (l *Link) answered(t *Txn) {
	delete(l.pending, t.linkSTAN)
	l.stans.free(t.linkSTAN)
	l.fifo.done(t.seq)
	l.notifyIdle()
}

// take removes and returns the request pending under stan, if any.
func (l *Link) take(stan uint32) *Txn {
	l.mu.Lock()
	t := l.pending[stan]
	if t != nil {
		l.answered(t)
	}
	l.mu.Unlock()
	return t
}

// takeLate removes and returns a timed-out request still remembered under
// stan, if any.
func (l *Link) takeLate(stan uint32) *Txn {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.late[stan]
	if t != nil {
		l.lateAnswered(t)
	}
	return t
}

// lateAnswered forgets t, remembered under its STAN, now that its late
// answer came. l.mu held.
func (l *Link) lateAnswered(t *Txn) {
	delete(l.late, t.linkSTAN)
	l.stans.free(t.linkSTAN)
}

// sweep fails every request whose deadline has passed.
func (l *Link) sweep() {
	now := l.now()
	var expired []*Txn
	l.mu.Lock()
	l.fifo.expire(now, func(e entry) {
		if t := l.pending[e.stan]; t != nil && t.seq == e.seq {
			if t.marks&awaitingVet != 0 {
				// Its gate holds it, and whether it goes out at all is
				// its vet's to say, which then fails it (vet.go). One
				// queued without a vet (on the SQLite journal, or claiming
				// no key) goes out once its gate lets it, whatever: it
				// times out here even while held, as the issuer will get
				// it and its reversal is due.
				return
			}
			delete(l.pending, e.stan)
			l.remember(e.stan, t, now)
			expired = append(expired, t)
		}
	})
	l.forgetLate(now)
	l.notifyIdle()
	l.mu.Unlock()
	for _, t := range expired {
		if realTime(t) {
			l.cfg.Health.timedOut()
		}
		t.Owner.Fail(t, ErrTimeout)
	}
}

// sendNetMgmt sends an 0800 with the given field 70 code; the returned
// channel gets nil when an 0810 with 39=00 arrives, or the failure.
func (l *Link) sendNetMgmt(code string) <-chan error {
	res := make(chan error, 1)
	own := &netOwner{res: res}
	t := &Txn{Owner: own, MTI: [4]byte{'0', '8', '0', '0'}, Issuer: l.cfg.Issuer, Started: time.Now()}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.out == nil {
		res <- ErrNoLink
		return res
	}
	stan, err := l.register(t)
	if err != nil {
		res <- err
		return res
	}
	putSTAN(t.STAN[:], stan) // the 0810 echoes it; restore writes it back unchanged
	frame, err := iso.NetMgmtRequest(l.cfg.Spec, stan, code, time.Now())
	if err == nil {
		frame, err = l.translated(frame)
	}
	if err == nil {
		err = l.out.Queue(frame)
	}
	if err != nil {
		l.unregister(t)
		res <- err
	}
	return res
}

// signOn sends 0800/001 and waits for its 0810 (39=00) before the link
// carries traffic: an issuer that refuses sign-on gets no requests.
func (l *Link) signOn(ctx interface{ Done() <-chan struct{} }, readDone <-chan error) error {
	res := l.sendNetMgmt(iso.NetSignOn)
	timer := time.NewTimer(l.cfg.ConnectTimeout)
	defer timer.Stop()
	for {
		select {
		case err := <-res:
			if err != nil {
				return err
			}
			return nil
		case err := <-readDone:
			return err
		case <-timer.C:
			l.sweep()
			return ErrTimeout
		case <-ctx.Done():
			return ErrLinkLost
		}
	}
}

func putSTAN(dst []byte, stan uint32) {
	for i := 5; i >= 0; i-- {
		dst[i] = byte('0' + stan%10)
		stan /= 10
	}
}

func parseSTAN(b []byte) (uint32, bool) {
	if len(b) != 6 {
		return 0, false
	}
	var n uint32
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
	}
	return n, true
}

// remember keeps a request that timed out at now for its late answer;
// its STAN stays held. l.mu held.
func (l *Link) remember(stan uint32, t *Txn, now int64) {
	l.late[stan] = t
	l.latePeak = max(l.latePeak, len(l.late))
	l.lateOrder = append(l.lateOrder, lateItem{stan: stan, seq: t.seq, at: now})
}

// forgetLate forgets the remembered requests whose window is over, and
// sets their STANs free. l.mu held.
//
// The window: a timed-out request is remembered for at least lateFloor
// (2 x timeout + 10 s), however many that holds: the STANs held are
// bounded only by the STAN space, and when all are held the link refuses
// requests rather than reuse one. Past the floor it is kept while fewer
// than half the link's STANs are held, for at most lateMax. So the window
// follows the link's rate: a link sending r requests/s goes round half
// its STANs in 500,000/r s, which is how long a quiet link remembers (up
// to lateMax); a busy one remembers for the floor. A STAN set free is
// handed out again only after every other free one (stanSet.take).
func (l *Link) forgetLate(now int64) {
	floor := lateFloor(time.Duration(l.timeout.Load()), l.cfg.LateGrace)
	for ; l.lateHead < len(l.lateOrder); l.lateHead++ {
		it := l.lateOrder[l.lateHead]
		age := now - it.at
		if age < floor || (age < int64(lateMax) && 2*l.stans.held < int(l.stans.space)) {
			break
		}
		if t := l.late[it.stan]; t != nil && t.seq == it.seq {
			l.lateAnswered(t)
		}
	}
	l.compactLate()
}

// compactLate keeps lateOrder within twice late's size (plus a slack) and
// makes late anew once a flood of timeouts is over: Go maps do not shrink.
// l.mu held.
func (l *Link) compactLate() {
	if len(l.late) == 0 && l.latePeak > lateOrderSlack {
		// Nothing remembered: every item left in lateOrder is stale.
		l.late, l.latePeak = make(map[uint32]*Txn), 0
		l.lateOrder, l.lateHead = nil, 0
		return
	}
	live := len(l.lateOrder) - l.lateHead
	switch {
	case live == 0:
		l.lateOrder, l.lateHead = l.lateOrder[:0], 0
	case live > 2*len(l.late)+lateOrderSlack:
		kept := l.lateOrder[:0]
		for _, it := range l.lateOrder[l.lateHead:] {
			if t := l.late[it.stan]; t != nil && t.seq == it.seq {
				kept = append(kept, it)
			}
		}
		l.lateOrder, l.lateHead = kept, 0
	case l.lateHead > 4096 && l.lateHead*2 > len(l.lateOrder):
		n := copy(l.lateOrder, l.lateOrder[l.lateHead:])
		l.lateOrder, l.lateHead = l.lateOrder[:n], 0
	}
}
