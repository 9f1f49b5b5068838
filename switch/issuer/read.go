package issuer

import (
	"fmt"
	"net"
	"time"

	"github.com/moov-io/iso8583"

	"github.com/cardswitch/cardswitch/iso"
)

// readLoop matches responses to pending requests until the connection
// fails. A frame it cannot use is logged and dropped: the request it might
// have answered times out on its own, and the connection stays up.
func (l *Link) readLoop(conn net.Conn) error {
	fr := iso.NewFrameReaderFraming(conn, l.cfg.Dialect.Framing, l.cfg.MaxFrame)
	var v iso.View
	var rx int64     // when the frames being handled were read (l.now)
	var canon []byte // the translation of the frame being handled
	defer l.held.Wake()
	for {
		// Only a frame that needed a read stamps lastRx and rx: frames
		// read ahead in the same batch arrived with it, and need no clock
		// read each.
		fresh := !fr.Complete()
		if fresh { // what was read is handled: its answers go out
			l.held.Wake()
		}
		frame, err := fr.Next()
		if err != nil {
			return err
		}
		if fresh {
			rx = l.now()
			l.lastRx.Store(rx)
		}
		if len(frame) == 0 {
			continue
		}
		if tr := l.cfg.Translator; tr != nil {
			if canon, err = tr.ToCanon(canon[:0], frame, &l.ansCarry); err != nil {
				l.untranslatable(frame, err)
				continue
			}
			l.count(false)
			frame = canon
		}
		scanErr := l.cfg.Scanner.Scan(frame, &v)
		mti := v.MTI()
		if mti == nil {
			l.cfg.Log.Warn("issuer frame without readable MTI dropped", "issuer", l.cfg.Issuer,
				"endpoint", l.cfg.Addr, "len", len(frame))
			continue
		}
		if iso.IsRequestMTI(mti) {
			l.inbound(frame, mti, scanErr)
			continue
		}
		l.response(frame, &v, scanErr, rx)
	}
}

// count tells the switch of one message translated (failed: one that
// could not be).
func (l *Link) count(failed bool) {
	if l.cfg.OnTranslate != nil {
		l.cfg.OnTranslate(failed)
	}
}

// untranslatable handles an issuer frame that does not translate to the
// canonical form: an unreadable answer. When its STAN can still be read
// (the dialect's own spec) the request pending under it fails (96), as an
// answer that does not scan does; otherwise the frame is dropped and that
// request times out (91).
func (l *Link) untranslatable(frame []byte, err error) {
	l.count(true)
	l.cfg.Log.Warn("issuer frame does not translate from its dialect; unreadable", "issuer", l.cfg.Issuer,
		"endpoint", l.cfg.Addr, "dialect", l.cfg.Dialect.Name, "len", len(frame), "err", err)
	spec, serr := l.cfg.Dialect.Spec()
	if serr != nil {
		return
	}
	m := iso8583.NewMessage(spec)
	if m.Unpack(frame) != nil {
		return
	}
	mti, _ := m.GetMTI()
	s11, _ := m.GetString(11)
	stan, ok := parseSTAN([]byte(s11))
	if !ok || len(mti) != 4 || iso.IsRequestMTI([]byte(mti)) {
		return
	}
	if t := l.take(stan); t != nil {
		t.Owner.Fail(t, fmt.Errorf("%w: %v", ErrBadResponse, err))
	}
}

// carryAnswer gives t's Carry what the canonical form of t's answer could
// not hold, as the read loop's translation of it remembered. Only a 1993
// issuer's answers have such values.
func (l *Link) carryAnswer(t *Txn) {
	tr := l.cfg.Translator
	if tr == nil || tr.Dialect().Version != 1993 {
		return
	}
	if c := carryOf(t); c != nil {
		c.SetAnswer(&l.ansCarry)
	}
}

// response hands one issuer response, read at rx (l.now), to the request
// it answers: the one pending, or remembered, under its STAN, if the
// response is that request's answer (mismatch). One that is not is
// reported as unmatched and the request stays as it was: its own answer
// may still come. An unreadable response under a pending request's STAN
// fails it (96): it cannot be compared, and it is no approval.
func (l *Link) response(frame []byte, v *iso.View, scanErr error, rx int64) {
	stan, ok := parseSTAN(v.Field(11))
	if !ok {
		l.cfg.Log.Warn("issuer response without a usable STAN dropped", "issuer", l.cfg.Issuer,
			"endpoint", l.cfg.Addr, "err", scanErr)
		return
	}
	t, late, field := l.claim(stan, v, scanErr == nil)
	switch {
	case t == nil:
		l.cfg.Log.Warn("issuer response matches no request (unknown STAN)", "issuer", l.cfg.Issuer,
			"endpoint", l.cfg.Addr, "stan", stan)
		return
	case field != matched:
		l.unmatched(t, stan, frame, v, field, late)
		return
	case late:
		l.lateResponse(t, stan, frame, v)
		return
	}
	if scanErr != nil {
		l.cfg.Log.Warn("issuer response unreadable", "issuer", l.cfg.Issuer, "endpoint", l.cfg.Addr,
			"stan", stan, "err", scanErr, "mti", string(v.MTI()))
		t.Owner.Fail(t, ErrBadResponse)
		return
	}
	if err := restore(v, t); err != nil {
		t.Owner.Fail(t, fmt.Errorf("%w: %v", ErrBadResponse, err))
		return
	}
	t.Latency = l.epoch.Add(time.Duration(rx)).Sub(t.Started) // monotonic, no clock read
	l.carryAnswer(t)
	if realTime(t) {
		l.cfg.Health.answered() // an 0810 (sign-on, echo) too: the links keep echoing while offline
	}
	if ho, ok := t.Owner.(HeldOwner); ok {
		ho.AnswerHeld(t, frame, v, &l.held)
		return
	}
	t.Owner.Answer(t, frame, v)
}

// claim finds the request pending, or else remembered (late), under stan
// and takes it if v is its answer; field names the first field in which
// it is not (matched if it is). An answer that did not scan (check false)
// is not compared.
func (l *Link) claim(stan uint32, v *iso.View, check bool) (t *Txn, late bool, field int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t = l.pending[stan]; t == nil {
		if t = l.late[stan]; t == nil {
			return nil, false, matched
		}
		late = true
	}
	if check {
		if field = mismatch(t, v); field != matched {
			return t, late, field
		}
	}
	if late {
		l.lateAnswered(t)
	} else {
		l.answered(t)
	}
	return t, late, matched
}

// unmatched reports an answer that came under t's link STAN but is not
// t's answer: it is logged (the PANs masked) and its owner told; it is
// never relayed.
func (l *Link) unmatched(t *Txn, stan uint32, frame []byte, v *iso.View, field int, late bool) {
	got, _ := iso.RoutingPAN(v)
	l.cfg.Log.Warn("issuer response is not the answer to the request under its STAN; not relayed",
		"issuer", l.cfg.Issuer, "endpoint", l.cfg.Addr, "stan", stan, "field", field, "late", late,
		"mti", string(v.MTI()), "pan", iso.MaskPAN(got), "request_pan", iso.MaskPAN(t.PAN.In(t.Frame)),
		"code", string(v.Field(39)))
	if uo, ok := t.Owner.(UnmatchedOwner); ok {
		uo.Unmatched(t, frame, v, field, late)
	}
}

// restore puts the acquirer's own STAN back into the response (fixed
// length, so in place), and into the original STAN of its 90 when
// RelinkOriginal changed the request's. Its RRN and terminal id need no
// restoring: an answer that carries them carries the request's
// (mismatch), as its 90 does.
func restore(v *iso.View, t *Txn) error {
	if t.marks&relinked != 0 {
		if f := v.Field(90); len(f) == origDataLen {
			var b [origDataLen]byte
			copy(b[:], f)
			putSTAN(b[origSTANAt:origSTANAt+6], t.marks&acqOriginal)
			if err := v.Set(90, b[:]); err != nil {
				return err
			}
		}
	}
	return v.Set(11, t.STAN[:])
}

// inbound answers requests the issuer sends us. Only network management
// (0800: sign-on, sign-off, echo) is accepted from an issuer.
func (l *Link) inbound(frame, mti []byte, scanErr error) {
	if scanErr != nil || mti[1] != '8' {
		l.cfg.Log.Warn("unsupported or unreadable request from issuer dropped", "issuer", l.cfg.Issuer,
			"endpoint", l.cfg.Addr, "mti", string(mti), "err", scanErr)
		return
	}
	resp, err := iso.NetMgmtResponse(l.cfg.Spec, frame, "00")
	if err == nil {
		resp, err = l.translated(resp)
	}
	if err != nil {
		l.cfg.Log.Warn("cannot answer issuer network management", "issuer", l.cfg.Issuer, "err", err)
		return
	}
	l.mu.Lock()
	out := l.out
	l.mu.Unlock()
	if out != nil {
		_ = out.Queue(resp)
	}
}

// netOwner collects the outcome of the link's own 0800s.
type netOwner struct{ res chan error }

// Answer: an 0810 arrived (readable, right MTI); only 39=00 is a yes.
func (o *netOwner) Answer(_ *Txn, _ []byte, v *iso.View) {
	if code := v.Field(39); string(code) != "00" {
		o.res <- fmt.Errorf("network management refused with 39=%q", code)
		return
	}
	o.res <- nil
}

func (o *netOwner) Fail(_ *Txn, err error) { o.res <- err }

// lateResponse handles the answer to t, a request that already timed out
// (and was answered 91): it is never relayed, only reported to its owner.
func (l *Link) lateResponse(t *Txn, stan uint32, frame []byte, v *iso.View) {
	l.cfg.Log.Warn("late issuer response (after the timeout) dropped", "issuer", l.cfg.Issuer,
		"endpoint", l.cfg.Addr, "stan", stan, "code", string(v.Field(39)))
	if lo, ok := t.Owner.(LateOwner); ok {
		_ = restore(v, t)
		lo.Late(t, frame, v)
	}
}
