package switchd

import (
	"sync"

	"github.com/moov-io/iso8583"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
)

// edgeRequest is a request from a translating or TPDU listener: with the
// Carry of its translation, which its issuer link and its answer need
// again, and its TPDU, which its answer echoes. It is the Txn's Owner
// (issuer.Carrier). A request from a plain iso87ascii listener needs
// neither and stays in its smaller allocation size class (see request).
type edgeRequest struct {
	request
	carry iso.Carry
	tpdu  [iso.TPDULen]byte
}

// Carry is the transaction's Carry (issuer.Carrier).
func (e *edgeRequest) Carry() *iso.Carry { return &e.carry }

// edgeOf is r's edgeRequest, nil when r came in on a plain listener.
func edgeOf(r *request) *edgeRequest {
	if r == nil {
		return nil
	}
	e, _ := r.Owner.(*edgeRequest)
	return e
}

// fromEdge turns raw, a frame in the listener's dialect, into the
// canonical message the switch handles (and keeps its TPDU for the
// answer). A request that does not translate is refused 30 here (or, when
// not even its MTI can be read, treated as an unreadable frame): ok false.
func (c *acqConn) fromEdge(fr *iso.FrameReader, raw []byte) (frame []byte, ok bool) {
	if h := fr.Header(); c.lst.dialect.Framing.Header == iso.HeaderTPDU && len(h) == iso.TPDULen {
		copy(c.tpdu[:], h)
	}
	tr := c.lst.tr
	if tr == nil {
		return raw, true
	}
	c.carry = iso.Carry{}
	canon, err := tr.ToCanon(c.canon[:0], raw, &c.carry)
	if err != nil {
		c.untranslatable(raw, err)
		return nil, false
	}
	c.canon = canon
	c.lst.edge.Translated.Inc()
	return canon, true
}

// untranslatable refuses a request whose field cannot be expressed in the
// canonical form: answered 30 (format error) with the field named in the
// journal and the log. The answer echoes what can be read of the request
// (MTI, STAN, RRN, terminal id) through the dialect's own spec; a frame
// that does not even give those is an unreadable frame (no answer).
func (c *acqConn) untranslatable(raw []byte, err error) {
	c.lst.edge.TranslateErrors.Inc()
	canon, ok := c.echoOnly(raw)
	v := &c.views[c.cur]
	if !ok || c.s.scanner.ScanLenient(canon, v) != nil || v.MTI() == nil || !iso.IsRequestMTI(v.MTI()) {
		c.unreadableFrame(len(raw), err)
		return
	}
	c.s.stats.requests.Add(1)
	sp := refusedSpans(v)
	c.refuse(v, &sp, c.started, refusal{code: iso.CodeFormatError,
		reason: "request does not translate from dialect " + c.lst.dialect.Name + ": " + err.Error()})
}

// echoFields are what a refusal of an untranslatable request echoes.
var echoFields = [...]int{11, 37, 41}

// echoOnly is the canonical form of raw's MTI and echo fields alone (slow:
// moov, on the error path only).
func (c *acqConn) echoOnly(raw []byte) ([]byte, bool) {
	spec, err := c.lst.dialect.Spec()
	if err != nil {
		return nil, false
	}
	in := iso8583.NewMessage(spec)
	if in.Unpack(raw) != nil {
		return nil, false
	}
	mti, err := in.GetMTI()
	if err != nil {
		return nil, false
	}
	out := iso8583.NewMessage(spec)
	out.MTI(mti)
	have := in.GetFields()
	for _, id := range echoFields {
		if f, ok := have[id]; ok {
			if b, err := f.Bytes(); err == nil {
				_ = out.BinaryField(id, b)
			}
		}
	}
	packed, err := out.Pack()
	if err != nil {
		return nil, false
	}
	canon, err := c.lst.tr.ToCanon(nil, packed, &c.carry)
	return canon, err == nil
}

// queueAnswer queues resp, a canonical answer, in the listener's dialect:
// translated (with the Carry of the request it answers, so that a 1993
// acquirer gets its own values and echo fields back) and framed behind
// the request's TPDU with its NIIs swapped. r is the relayed request it
// answers; nil for the frame the read loop is handling. With held set the
// writer is not woken (queueHeld).
func (c *acqConn) queueAnswer(resp []byte, ticket journal.Ticket, r *request, held *wire.Held) {
	carry, tpdu := &c.carry, &c.tpdu
	if e := edgeOf(r); e != nil {
		carry, tpdu = &e.carry, &e.tpdu
	}
	out := resp
	if tr := c.lst.tr; tr != nil {
		// Translated into a pooled buffer: the writer copies the frame, and
		// answers are queued from every issuer link's read loop at once.
		bp := answerBufs.Get().(*[]byte)
		defer answerBufs.Put(bp)
		var err error
		if out, err = tr.FromCanon((*bp)[:0], resp, carry); err == nil {
			*bp = out[:0]
		}
		if err != nil {
			c.lst.edge.TranslateErrors.Inc()
			c.s.log.Warn("answer does not translate to the acquirer's dialect; answered 96 instead", "conn", c.id,
				"listener", c.lst.name, "dialect", c.lst.dialect.Name, "err", err)
			if out, err = c.fallbackAnswer(resp, carry); err != nil {
				c.s.log.Error("cannot answer the acquirer in its dialect", "conn", c.id, "err", err)
				return
			}
		} else {
			c.lst.edge.Translated.Inc()
		}
	}
	var hdr []byte
	if c.lst.dialect.Framing.Header == iso.HeaderTPDU {
		var answer [iso.TPDULen]byte
		iso.AnswerTPDU(answer[:], tpdu[:])
		hdr = answer[:]
	}
	c.enqueue(c.out.QueueFramedHeld(hdr, out, uint64(ticket), held))
}

// answerBufs hold answers translated into an acquirer's dialect until the
// writer has copied them.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// fallbackAnswer is the switch's own 96 for an answer that cannot be put
// in the acquirer's dialect: MTI, the echo fields and 39 alone.
func (c *acqConn) fallbackAnswer(resp []byte, carry *iso.Carry) ([]byte, error) {
	var v iso.View
	_ = c.s.scanner.ScanLenient(resp, &v)
	m := iso.NewMessage(c.s.spec)
	if mti := v.MTI(); len(mti) == 4 {
		m.MTI(string(mti))
	}
	for _, id := range echoFields {
		if f := v.Field(id); len(f) > 0 {
			_ = m.Field(id, string(f))
		}
	}
	if err := m.Field(39, string(iso.CodeSystemError)); err != nil {
		return nil, err
	}
	own, err := m.Pack()
	if err != nil {
		return nil, err
	}
	return c.lst.tr.FromCanon(nil, own, carry)
}
