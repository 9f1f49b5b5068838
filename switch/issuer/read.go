package issuer

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/cardswitch/cardswitch/iso"
)

// readLoop matches responses to pending requests until the connection
// fails. A frame it cannot use is logged and dropped: the request it might
// have answered times out on its own, and the connection stays up.
func (l *Link) readLoop(conn net.Conn) error {
	fr := iso.NewFrameReader(conn, l.cfg.MaxFrame)
	var v iso.View
	var rx int64 // when the frames being handled were read (l.now)
	for {
		// Only a frame that needed a read stamps lastRx and rx: frames
		// read ahead in the same batch arrived with it, and need no clock
		// read each.
		fresh := !fr.Complete()
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

// response hands one issuer response, read at rx (l.now), to the request
// it answers.
func (l *Link) response(frame []byte, v *iso.View, scanErr error, rx int64) {
	stan, ok := parseSTAN(v.Field(11))
	if !ok {
		l.cfg.Log.Warn("issuer response without a usable STAN dropped", "issuer", l.cfg.Issuer,
			"endpoint", l.cfg.Addr, "err", scanErr)
		return
	}
	t := l.take(stan)
	if t == nil {
		l.lateResponse(stan, frame, v)
		return
	}
	want := iso.ResponseMTI(t.MTI[:])
	if scanErr != nil || !bytes.Equal(v.MTI(), want[:]) {
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
	t.Owner.Answer(t, frame, v)
}

// restore puts the acquirer's own STAN, and its RRN and terminal id where
// the issuer echoed them, back into the response (all fixed-length, so in
// place).
func restore(v *iso.View, t *Txn) error {
	if err := v.Set(11, t.STAN[:]); err != nil {
		return err
	}
	if t.HasRRN && v.Has(37) {
		if err := v.Set(37, t.RRN[:]); err != nil {
			return err
		}
	}
	if t.HasTID && v.Has(41) {
		if err := v.Set(41, t.Terminal[:]); err != nil {
			return err
		}
	}
	return nil
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

// lateResponse handles an answer to a request that already timed out (and
// was answered 91): it is never relayed, only reported to its owner.
func (l *Link) lateResponse(stan uint32, frame []byte, v *iso.View) {
	t := l.takeLate(stan)
	if t == nil {
		l.cfg.Log.Warn("issuer response matches no request (unknown STAN)", "issuer", l.cfg.Issuer,
			"endpoint", l.cfg.Addr, "stan", stan)
		return
	}
	l.cfg.Log.Warn("late issuer response (after the timeout) dropped", "issuer", l.cfg.Issuer,
		"endpoint", l.cfg.Addr, "stan", stan, "code", string(v.Field(39)))
	if lo, ok := t.Owner.(LateOwner); ok {
		_ = restore(v, t)
		lo.Late(t, frame, v)
	}
}
