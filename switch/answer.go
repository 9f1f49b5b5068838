package switchd

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cardswitch/cardswitch/internal/pan"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/issuer"
)

// reject answers a request read on this connection by the switch itself:
// MTI + 10, the request's echo fields, and 39 = code. reason is logged and
// journaled, never sent. The request passed screened: its fields are
// journaled.
func (c *acqConn) reject(v *iso.View, code, reason string) {
	c.decline(v, c.started, "", code, journal.SwitchDeclined, reason)
}

// refuse is reject for a request that was never screened (or failed):
// it is journaled with its MTI, STAN and reason only (refusedSpans). Its other
// fields cannot be trusted to be what their columns say (a misaligned
// frame puts card digits in the amount or RRN), so none reaches the
// journal. The answer still echoes them: the acquirer needs its own
// fields to match it.
func (c *acqConn) refuse(v *iso.View, code, reason string) {
	sp := refusedSpans(v)
	c.answerOwn(v, &sp, c.started, "", code, journal.SwitchDeclined, reason)
}

// decline builds the switch's own answer and finishes the request with it.
func (c *acqConn) decline(v *iso.View, started time.Time, issuerName, code string, outcome journal.Outcome, reason string) {
	sp := requestSpans(v)
	c.answerOwn(v, &sp, started, issuerName, code, outcome, reason)
}

// answerOwn answers with the switch's own code and journals the request
// from its fields at sp.
func (c *acqConn) answerOwn(v *iso.View, sp *entrySpans, started time.Time, issuerName, code string,
	outcome journal.Outcome, reason string) {
	s := c.s
	s.stats.countOwn(code)
	resp, err := s.response(v, code)
	if err != nil {
		s.log.Error("cannot build switch response", "conn", c.id, "code", code, "err", err)
		return
	}
	c.finish(v, sp, started, resp, issuerName, code, outcome, reason, nil)
}

// finished holds a request's final answer, with its journal entry
// encoded, while something else must happen first (a timed-out request's
// 0420 stored); commit then stages the entry and queues the answer behind
// it, as finish does at once. The connection's writer commits the entries
// of a batch before it sends the batch (wire.Writer.SetGate): an acquirer
// is never told an answer the journal could lose in a crash.
type finished struct {
	c    *acqConn
	body []byte // the journal entry, encoded (journal.AppendBody); nil without a journal or when refused
	resp []byte
	sent *issuer.Txn // the request went to an issuer: its slots are released once answered

	mti          [4]byte
	issuer, code string
	started      time.Time

	buf []byte // backing store of body and resp, kept for reuse
}

// finishedPool recycles the holders, with their buffers, once the answer
// is queued (the queue copies it, and Stage copied the entry): otherwise
// two allocations per journaled answer.
var finishedPool = sync.Pool{New: func() any { return new(finished) }}

// maxPooledBuf bounds the buffer a pooled holder keeps (an unusually big
// answer or entry is not kept alive).
const maxPooledBuf = 8 << 10

// finish journals (from v's fields at sp) and sends resp. sent: the issuer request it answers,
// nil when the request never went to an issuer. The journal entry is
// staged straight from the request's fields and the answer queued behind
// it, with nothing to hold them in (a finished holder is for answers that
// must wait for something else first).
func (c *acqConn) finish(v *iso.View, sp *entrySpans, started time.Time, resp []byte, issuerName, code string,
	outcome journal.Outcome, reason string, sent *issuer.Txn) {
	var t journal.Ticket
	latency := time.Since(started) // one clock read for the journal entry and the metric
	if c.s.jrnl != nil {
		var masked [pan.MaxLen]byte
		fl := c.fieldsAt(v.Frame(), sp, started, latency, issuerName, code, outcome, reason, &masked)
		t = c.stage(&fl)
	}
	c.logTxn(v, started, issuerName, code, outcome, reason)
	var mti [4]byte
	copy(mti[:], v.MTI())
	c.deliver(resp, mti, issuerName, code, latency, sent, t)
}

func (c *acqConn) finished(v *iso.View, started time.Time, resp []byte, issuerName, code string,
	outcome journal.Outcome, reason string, sent *issuer.Txn) *finished {
	f := finishedPool.Get().(*finished)
	*f = finished{c: c, resp: resp, sent: sent, issuer: issuerName, code: code, started: started, buf: f.buf}
	copy(f.mti[:], v.MTI())
	if c.s.jrnl != nil {
		// resp may be a reused read buffer: it is copied behind the
		// encoded entry, in the same buffer (encodeEntry leaves room).
		body, err := c.encodeEntry(f.buf, v, started, issuerName, code, outcome, reason, len(resp))
		if err != nil {
			c.journalFailed(err)
		} else {
			f.body = body
		}
		f.resp = append(body, resp...)[len(body):]
		f.buf = body[:0]
	}
	c.logTxn(v, started, issuerName, code, outcome, reason)
	return f
}

// logTxn writes the per-transaction debug line, when it is wanted.
func (c *acqConn) logTxn(v *iso.View, started time.Time, issuerName, code string, outcome journal.Outcome, reason string) {
	if !c.s.debugging() {
		return
	}
	pan, _ := iso.RoutingPAN(v)
	c.s.log.Debug("transaction", "conn", c.id, "remote", c.remote, "issuer", issuerName,
		"mti", string(v.MTI()), "stan", string(v.Field(11)), "pan", iso.MaskPAN(pan), "code", code,
		"outcome", string(outcome), "reason", reason, "latency", time.Since(started))
}

// commit stages f's journal entry and queues the answer behind it (at
// once when there is nothing to journal). An entry the journal refuses is
// logged and counted, and the answer still goes out: the acquirer must
// not wait on the audit trail.
func (f *finished) commit() {
	var t journal.Ticket
	if f.body != nil {
		var err error
		if t, err = f.c.s.jrnl.Stage(f.body); err != nil {
			f.c.journalFailed(err)
		}
	}
	f.send(t)
}

// stage stages a journal entry and returns the ticket its answer waits
// for; an entry the journal refuses is logged and counted, and 0 returned
// (the answer goes out all the same).
func (c *acqConn) stage(fl *journal.Fields) journal.Ticket {
	t, err := c.s.jrnl.StageFields(fl)
	if err != nil {
		c.journalFailed(err)
	}
	return t
}

func (c *acqConn) journalFailed(err error) {
	c.s.journalLost(1)
	c.s.log.Error("journal write failed", "conn", c.id, "err", err)
}

// journalLost counts entries the journal could not write (their answers
// went out).
func (s *Switch) journalLost(n int) {
	s.stats.journalErrors.Add(int64(n))
	s.metrics.JournalErrors(n)
}

func (f *finished) send(t journal.Ticket) {
	f.c.deliver(f.resp, f.mti, f.issuer, f.code, time.Since(f.started), f.sent, t)
	buf := f.buf
	if cap(buf) > maxPooledBuf {
		buf = nil
	}
	*f = finished{buf: buf}
	finishedPool.Put(f)
}

// deliver queues an answer (behind its journal entry's ticket, 0 for
// none), counts it with its latency and releases what its request held
// (sent: nil when it never went to an issuer).
func (c *acqConn) deliver(resp []byte, mti [4]byte, issuerName, code string, latency time.Duration,
	sent *issuer.Txn, t journal.Ticket) {
	c.queueAfter(resp, t)
	c.s.metrics.Request(string(mti[:]), issuerName, code, latency)
	if sent != nil {
		c.release(sent)
	}
}

// debugging: per-transaction debug lines are wanted.
func (s *Switch) debugging() bool { return s.log.Enabled(context.Background(), slog.LevelDebug) }

// encodeEntry encodes the journal entry of a request and its answer for
// the log (journal.AppendBody), straight from the request's fields (the
// PAN masked), into buf (a new buffer when too small) with room for extra
// more bytes behind it.
func (c *acqConn) encodeEntry(buf []byte, v *iso.View, started time.Time, issuerName, code string,
	outcome journal.Outcome, reason string, extra int) ([]byte, error) {
	var masked [pan.MaxLen]byte
	fl := c.entryFields(v, started, time.Since(started), issuerName, code, outcome, reason, &masked)
	if need := fl.BodySize() + extra; cap(buf) < need {
		buf = make([]byte, 0, need)
	}
	return journal.AppendBody(buf[:0], &fl)
}

// entryFields is the journal entry of a request scanned into v and its
// answer (fieldsAt, with v's spans).
func (c *acqConn) entryFields(v *iso.View, started time.Time, latency time.Duration, issuerName, code string,
	outcome journal.Outcome, reason string, masked *[pan.MaxLen]byte) journal.Fields {
	sp := requestSpans(v)
	return c.fieldsAt(v.Frame(), &sp, started, latency, issuerName, code, outcome, reason, masked)
}

// fieldsAt is the journal entry of a request and its answer, straight from
// the request's frame at its spans (requestSpans; the fields alias the
// frame); the PAN is masked into masked. A relayed request's Txn keeps its
// frame and spans, so its answer needs no second scan.
func (c *acqConn) fieldsAt(frame []byte, sp *entrySpans, started time.Time, latency time.Duration, issuerName, code string,
	outcome journal.Outcome, reason string, masked *[pan.MaxLen]byte) journal.Fields {
	return journal.Fields{Time: started, Conn: c.id, Latency: latency, Acquirer: c.acquirer,
		Remote: c.remote, Issuer: issuerName, MTI: sp[spanMTI].In(frame),
		ProcessingCode: sp[spanProcessingCode].In(frame), Amount: sp[spanAmount].In(frame),
		Currency: sp[spanCurrency].In(frame), STAN: sp[spanSTAN].In(frame), RRN: sp[spanRRN].In(frame),
		Terminal: sp[spanTerminal].In(frame), TransmissionTime: sp[spanTransmissionTime].In(frame),
		PAN: pan.AppendMasked(masked[:0], sp[spanPAN].In(frame)), ResponseCode: code, Outcome: outcome,
		Reason: reason}
}

// netMgmt answers an acquirer's 0800: sign-on (001), sign-off (002) and
// echo (301) get 00; any other network management code gets 30. Network
// management is not journaled: it moves no money.
func (c *acqConn) netMgmt(frame []byte, v *iso.View) {
	code := CodeApproved
	switch string(v.Field(70)) {
	case iso.NetSignOn, iso.NetSignOff, iso.NetEcho:
	default:
		code = CodeFormatError
	}
	resp, err := iso.NetMgmtResponse(c.s.spec, frame, code)
	if err != nil {
		c.refuse(v, CodeSystemError, err.Error())
		return
	}
	c.s.stats.netMgmt.Add(1)
	c.queue(resp)
	c.s.log.Debug("network management answered", "conn", c.id, "code70", string(v.Field(70)), "code", code)
}

// cookieLimited marks a Txn holding an acquirer limiter slot.
const cookieLimited = 1

// release gives back what a request sent to an issuer held: its place in
// the switch's, its issuer's and the connection's in-flight counts and its
// acquirer limiter slot. Every way a request finishes (answered, refused
// by the issuer's cap or a link, timed out, link lost, unreadable answer,
// stored as an advice) comes through here once.
func (c *acqConn) release(t *issuer.Txn) {
	t.Leave()
	c.inflight.Add(-1)
	if t.Cookie&cookieLimited != 0 {
		c.s.limiter.End(c.acq)
	}
	c.s.txns.done()
}

// response builds the switch's own answer: by copying the request's echo
// fields (AppendResponse, ~0.1 µs: a decline, and every 91 of an overload,
// must cost less than relaying), else with moov (BuildResponse, ~6 µs).
// Should the echo fields not repack either (a field moov refuses), the
// answer falls back to MTI + 10, the STAN and 39: an acquirer always gets
// an answer it can match.
func (s *Switch) response(v *iso.View, code string) ([]byte, error) {
	if resp, err := s.scanner.AppendResponse(nil, v, code); err == nil {
		return resp, nil
	}
	resp, err := iso.BuildResponse(s.spec, v, code)
	if err == nil {
		return resp, nil
	}
	s.log.Warn("switch answer without echo fields: they did not repack", "code", code, "err", err)
	m := iso.NewMessage(s.spec)
	mti := iso.ResponseMTI(v.MTI())
	m.MTI(string(mti[:]))
	if stan := v.Field(11); len(stan) == 6 {
		_ = m.Field(11, string(stan))
	}
	if err := m.Field(39, code); err != nil {
		return nil, err
	}
	return m.Pack()
}
