package issuer

import (
	"time"

	"github.com/cardswitch/cardswitch/iso"
)

// Send puts t on this link: it gets a link STAN (field 11, at stanOff in
// t.Frame, rewritten only in the copy that goes out) and a deadline.
// On error nothing was sent and the Owner will not be called.
func (l *Link) Send(t *Txn, stanOff int) error {
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
	err = l.out.Queue(t.Frame)
	copy(field, t.STAN[:]) // the Txn keeps the acquirer's own frame
	if err != nil {
		l.unregister(t)
		return err
	}
	return nil
}

// register assigns a free link STAN and records t as pending. l.mu held.
func (l *Link) register(t *Txn) (uint32, error) {
	if len(l.pending) >= l.cfg.MaxInFlight {
		return 0, ErrBusy
	}
	for tries := 0; ; tries++ {
		if tries == 999999 {
			return 0, ErrBusy // every STAN pending or recently timed out
		}
		l.nextSTN = l.nextSTN%999999 + 1
		_, busy := l.pending[l.nextSTN]
		_, recent := l.late[l.nextSTN]
		if !busy && !recent {
			break
		}
	}
	l.seq++
	t.linkSTAN, t.seq = l.nextSTN, l.seq
	l.pending[t.linkSTAN] = t
	l.fifo.push(entry{stan: t.linkSTAN, seq: t.seq, deadline: l.now() + l.timeout.Load()})
	return t.linkSTAN, nil
}

func (l *Link) unregister(t *Txn) {
	delete(l.pending, t.linkSTAN)
	l.fifo.done(t.seq)
	l.notifyIdle()
}

// take removes and returns the request pending under stan, if any.
func (l *Link) take(stan uint32) *Txn {
	l.mu.Lock()
	t := l.pending[stan]
	if t != nil {
		delete(l.pending, stan)
		l.fifo.done(t.seq)
		l.notifyIdle()
	}
	l.mu.Unlock()
	return t
}

// takeLate removes and returns a timed-out request still remembered under
// stan, if any.
func (l *Link) takeLate(stan uint32) *Txn {
	l.mu.Lock()
	defer l.mu.Unlock()
	le, ok := l.late[stan]
	if !ok {
		return nil
	}
	delete(l.late, stan)
	return le.t
}

// sweep fails every request whose deadline has passed.
func (l *Link) sweep() {
	now := l.now()
	var expired []*Txn
	l.mu.Lock()
	keep := now + lateKeep(time.Duration(l.timeout.Load()))
	l.fifo.expire(now, func(e entry) {
		if t := l.pending[e.stan]; t != nil && t.seq == e.seq {
			delete(l.pending, e.stan)
			l.remember(e.stan, t, keep, now)
			expired = append(expired, t)
		}
	})
	l.forgetLate(now)
	l.notifyIdle()
	l.mu.Unlock()
	for _, t := range expired {
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

// remember keeps a timed-out request for its late answer. l.mu held.
func (l *Link) remember(stan uint32, t *Txn, until, now int64) {
	if len(l.late) >= maxLate {
		l.forgetLate(now) // makes room by dropping the oldest
	}
	l.late[stan] = lateEntry{t: t, until: until}
	l.lateOrder = append(l.lateOrder, lateItem{stan: stan, until: until})
}

// forgetLate drops remembered requests whose time is up, and the oldest
// others while there are maxLate or more. l.mu held.
func (l *Link) forgetLate(now int64) {
	for l.lateHead < len(l.lateOrder) {
		it := l.lateOrder[l.lateHead]
		if it.until > now && len(l.late) < maxLate {
			break
		}
		if le, ok := l.late[it.stan]; ok && le.until == it.until {
			delete(l.late, it.stan)
		}
		l.lateHead++
	}
	if l.lateHead == len(l.lateOrder) {
		l.lateOrder, l.lateHead = l.lateOrder[:0], 0
	} else if l.lateHead > 4096 && l.lateHead*2 > len(l.lateOrder) {
		n := copy(l.lateOrder, l.lateOrder[l.lateHead:])
		l.lateOrder, l.lateHead = l.lateOrder[:n], 0
	}
}
