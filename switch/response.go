package switchd

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/cardswitch/cardswitch/internal/pan"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
	"github.com/cardswitch/cardswitch/switch/issuer"
)

// Everything that answers a request: the issuer's answer, a timeout or a
// link failure, an answer that came late or is not the request's, and the
// switch's own answer. Each ends in finish, the one place that journals
// an outcome and queues its answer.

// answer is how a request ended: what its journal entry holds and what the
// acquirer is sent.
type answer struct {
	frame   []byte     // the request (for an unmatched answer, the answer) the entry is built from
	spans   entrySpans // where the entry's fields lie in frame (a copy: a pointer would move them to the heap)
	started time.Time
	latency time.Duration // the same figure for the journal entry and the metric
	issuer  string
	code    string
	outcome journal.Outcome
	reason  string
	resp    []byte     // nil: nothing to send (the acquirer already had its answer)
	held    *wire.Held // set: queue the answer without waking the writer (the link's reader wakes it)
	sent    *request   // the relayed request it answers, released once answered; nil when never relayed
	req     *request   // the relayed request it answers, for its dialect state; nil: the frame being handled
}

// finish journals a's outcome and queues its answer behind the entry (v:
// the frame's scan, for the debug line; nil: scanned again then): the
// connection's writer commits the entries of a batch before it sends the
// batch (wire.Writer.SetGate), so an acquirer is never told an answer the
// journal could lose in a crash. An entry the journal refuses is logged
// and counted, and the answer still goes out: the acquirer must not wait
// on the audit trail.
func (c *acqConn) finish(a *answer, v *iso.View) {
	var tk journal.Ticket
	if c.s.jrnl != nil {
		var masked [pan.MaxLen]byte
		fl := c.entry(a, &masked)
		if a.sent != nil {
			fl.Closes = a.sent.Recorded // its in-flight record (inflight.go)
		}
		var err error
		if tk, err = stageFields(c.s.jrnl, &fl); err != nil {
			c.journalFailed(err)
		}
	}
	if a.resp == nil {
		return
	}
	if c.s.debugging() {
		c.logTxn(a, v)
	}
	// Counted before it is queued: whoever has seen the answer finds it
	// in the metrics and the status page.
	c.s.metrics.Request(string(a.spans[spanMTI].In(a.frame)), a.issuer, a.code, a.latency)
	c.s.ring.put(c, a)
	c.queueHeld(a.resp, tk, a.req, a.held)
	if a.sent != nil {
		c.release(a.sent)
	}
}

// Answer relays the issuer's response (issuer.Owner). The journal entry
// takes the request's fields from its spans: the request is not scanned
// again (a View is too large to keep per request).
func (r *request) Answer(t *issuer.Txn, resp []byte, rv *iso.View) { r.AnswerHeld(t, resp, rv, nil) }

// AnswerHeld is Answer with the answer queued in the link reader's held
// writers (issuer.HeldOwner): it wakes the connection's writer once it
// has handled everything it read with this answer.
func (r *request) AnswerHeld(_ *issuer.Txn, resp []byte, rv *iso.View, held *wire.Held) {
	r.c.s.stats.issuerAnswers.Add(1)
	code := codeString(rv.Field(39))
	r.c.finish(&answer{frame: r.Frame, spans: r.entrySpans(), started: r.Started, latency: r.Latency,
		issuer: r.Issuer, code: code, outcome: issuerOutcome(r.MTI[:], code), resp: resp, sent: r, req: r, held: held}, nil)
}

// issuerOutcome classifies an issuer's answer for the journal.
func issuerOutcome(mti []byte, code string) journal.Outcome {
	switch {
	case code != "00" && code != "08" && code != "10" && code != "11":
		return journal.Declined
	case mti[1] == '4':
		return journal.Reversed
	}
	return journal.Approved
}

// Fail answers for the issuer (issuer.Owner): 91 when it is unreachable
// or late, 96 when its answer was unreadable. A request that may have
// reached the issuer is reversed: a timeout reversal (0420) is stored
// before the acquirer hears 91. An advice (0120, 0420 ...) is not: it is
// stored, to be repeated until acknowledged, and its acquirer hears 00.
func (r *request) Fail(_ *issuer.Txn, err error) {
	c, s := r.c, r.c.s
	code, outcome := iso.CodeIssuerDown, journal.TimedOut
	if errors.Is(err, issuer.ErrBadResponse) {
		code, outcome = iso.CodeSystemError, journal.SwitchDeclined
	}
	var v iso.View
	_ = s.scanner.Scan(r.Frame, &v) // it scanned cleanly when it arrived
	if errors.Is(err, journal.ErrClaimed) || errors.Is(err, journal.ErrClaimUnknown) ||
		errors.Is(err, issuer.ErrNotSent) {
		r.unclaimed(&v, err)
		return
	}
	if s.revs != nil && isAdvice(v.MTI()) {
		c.release(r)
		c.storeAdviceTried(r, &v, true) // it went out once: the store sends repeats
		return
	}
	if code == iso.CodeIssuerDown && s.standIn(r, err, true) {
		return // decided by the switch, once stored (standin.go)
	}
	resp, berr := s.ownResponse(c.asSent(r, &v), code)
	if berr != nil {
		s.log.Error("cannot build switch response", "conn", c.id, "code", string(code), "err", berr)
		c.release(r)
		return
	}
	d := deferred{r: r, resp: resp, code: string(code), outcome: outcome, reason: err.Error(), release: true}
	if s.revs != nil && v.MTI()[1] != '4' {
		s.revs.timedOut(r, &v, d) // stores the 0420, then finishes d
		return
	}
	d.finish()
}

// unclaimed answers a request the link did not send because its duplicate
// claim across nodes was not taken (Claimed): 94 for a duplicate, which
// stays in this node's window; 91 when the journal could not decide, the
// key then forgotten here too, as for any request no issuer saw. A request
// whose link was lost while its claim was being written (ErrNotSent) is
// one whose claim this node cannot know yet either: 91, forgotten, never
// reversed nor decided by stand-in (another node may have it, approved),
// and its claim released (StageDone deletes only this node's own, so a
// lost one stays the other node's): the acquirer's retry goes out, on any
// node, or is a duplicate of the other node's.
func (r *request) unclaimed(v *iso.View, err error) {
	c, s := r.c, r.c.s
	code, outcome := iso.CodeDuplicate, journal.Duplicate
	if errors.Is(err, journal.ErrClaimUnknown) || errors.Is(err, issuer.ErrNotSent) {
		code, outcome = iso.CodeIssuerDown, journal.SwitchDeclined
		s.dups.forget(s.dups.key(c.acquirer, v))
	}
	if errors.Is(err, issuer.ErrNotSent) {
		r.Unrecord(nil)
	}
	resp, berr := s.ownResponse(c.asSent(r, v), code)
	if berr != nil {
		s.log.Error("cannot build switch response", "conn", c.id, "code", string(code), "err", berr)
		c.release(r)
		return
	}
	d := deferred{r: r, resp: resp, code: string(code), outcome: outcome, reason: err.Error(), release: true}
	d.finish()
}

// Late journals an issuer answer that came after the timeout
// (issuer.LateOwner); the acquirer had its 91, or the switch's stand-in
// decision.
func (r *request) Late(_ *issuer.Txn, _ []byte, rv *iso.View) {
	if s := r.c.s; s.standInFor(r.Issuer, r.MTI[:]) != nil {
		select {
		case s.revs.lates <- lateReq{r: r, code: codeString(rv.Field(39))}:
			return // journaled beside the stand-in decision (standin_late.go)
		default: // the manager is behind: journaled as a plain late answer
		}
	}
	r.c.finish(&answer{frame: r.Frame, spans: r.entrySpans(), started: r.Started, latency: time.Since(r.Started),
		issuer: r.Issuer, code: codeString(rv.Field(39)), outcome: journal.Late,
		reason: "issuer answered after the timeout; not relayed (the acquirer got 91)"}, nil)
}

// Unmatched journals and counts an issuer answer that came under r's link
// STAN but is not r's answer (issuer.UnmatchedOwner); the link has logged
// it. It was not relayed, and r stays as it was. The entry holds the
// answer's own fields (the PAN masked; screened as a request's are:
// answerSpans), so that it can be found by the RRN or PAN of the request
// it answers.
func (r *request) Unmatched(_ *issuer.Txn, _ []byte, rv *iso.View, field int, late bool) {
	r.c.s.countUnmatched()
	state := "pending"
	if late {
		state = "timed out"
	}
	what := "the MTI"
	if field > 0 {
		what = "field " + strconv.Itoa(field)
	}
	reason := "issuer answer under link STAN " + strconv.FormatUint(uint64(r.LinkSTAN()), 10) +
		" is not the answer to the request " + state + " there (acquirer STAN " + string(r.STAN[:]) +
		"): " + what + " differs; not relayed"
	r.c.finish(&answer{frame: rv.Frame(), spans: answerSpans(rv), started: time.Now(), issuer: r.Issuer,
		code: codeString(rv.Field(39)), outcome: journal.Unmatched, reason: reason}, rv)
}

// refuse answers a request scanned into v with the switch's own code:
// MTI + 10, the request's echo fields, and 39 = rf.code. rf.reason is
// logged and journaled, never sent. The entry holds the request's fields
// at sp: all of them for a screened request, its MTI and STAN only for
// one that failed screening (refusedSpans; a misaligned frame puts card
// digits in the amount or RRN). The answer still echoes them: the acquirer
// needs its own fields to match it.
func (c *acqConn) refuse(v *iso.View, sp *entrySpans, started time.Time, rf refusal) {
	resp, err := c.s.ownResponse(v, rf.code)
	if err != nil {
		c.s.log.Error("cannot build switch response", "conn", c.id, "code", string(rf.code), "err", err)
		return
	}
	c.finish(&answer{frame: v.Frame(), spans: *sp, started: started, latency: time.Since(started),
		issuer: rf.issuer, code: string(rf.code), outcome: rf.outcome(), reason: rf.reason, resp: resp, req: rf.req}, v)
}

// deferred is an answer that waits for its reversal to be stored first
// (reversals.go): a request that may have reached the issuer is reversed
// before its acquirer hears 91. The zero value finishes nothing.
type deferred struct {
	r       *request
	resp    []byte
	code    string
	outcome journal.Outcome
	reason  string
	release bool // r still holds its slots (released once answered)
}

func (d *deferred) finish() {
	r := d.r
	if r == nil {
		return
	}
	var sent *request
	if d.release {
		sent = r
	}
	r.c.finish(&answer{frame: r.Frame, spans: r.entrySpans(), started: r.Started, latency: time.Since(r.Started),
		issuer: r.Issuer, code: d.code, outcome: d.outcome, reason: d.reason, resp: d.resp, sent: sent, req: r}, nil)
}

// release gives back what a relayed request held: its place in the
// switch's, its issuer's and the connection's in-flight counts and its
// acquirer limiter slot. Every way a request finishes (answered, refused
// by the issuer's cap or a link, timed out, link lost, unreadable answer,
// stored as an advice) comes through here once.
func (c *acqConn) release(r *request) {
	r.Leave()
	c.inflight.Add(-1)
	if r.limited {
		c.s.limiter.End(c.acq)
	}
	c.s.txns.done()
}

// logTxn writes the per-transaction debug line.
func (c *acqConn) logTxn(a *answer, v *iso.View) {
	if v == nil {
		v = new(iso.View)
		_ = c.s.scanner.Scan(a.frame, v) // it scanned cleanly when it arrived
	}
	pan, _ := iso.RoutingPAN(v)
	c.s.log.Debug("transaction", "conn", c.id, "remote", c.remote, "issuer", a.issuer,
		"mti", string(v.MTI()), "stan", string(v.Field(11)), "pan", iso.MaskPAN(pan), "code", a.code,
		"outcome", string(a.outcome), "reason", a.reason, "latency", time.Since(a.started))
}

// debugging: per-transaction debug lines are wanted.
func (s *Switch) debugging() bool { return s.log.Enabled(context.Background(), slog.LevelDebug) }

func (c *acqConn) journalFailed(err error) {
	c.s.journalLost(1)
	c.s.log.Error("journal write failed", "conn", c.id, "err", err)
}

// asSent is r's request as its acquirer sent it, for the switch's own
// answer: v (the scan of r.Frame), unless r is an acquirer's reversal
// whose 90 names its original by the link STAN (request.go, original);
// then a scan of the frame with the acquirer's 90, which the answer
// echoes.
func (c *acqConn) asSent(r *request, v *iso.View) *iso.View {
	f := r.AcquirerFrame()
	if len(f) == 0 || &f[0] == &r.Frame[0] {
		return v
	}
	av := new(iso.View)
	if c.s.scanner.Scan(f, av) != nil {
		return v
	}
	return av
}

// ownResponse builds and counts the switch's own answer: by copying the
// request's echo fields (AppendResponse, ~0.1 µs: a decline, and every 91
// of an overload, must cost less than relaying), else with moov
// (BuildResponse, ~6 µs). Should the echo fields not repack either (a
// field moov refuses), the answer falls back to MTI + 10, the STAN and
// 39: an acquirer always gets an answer it can match.
func (s *Switch) ownResponse(v *iso.View, code iso.SwitchCode) ([]byte, error) {
	s.stats.countOwn(code)
	if resp, err := s.scanner.AppendResponse(nil, v, string(code)); err == nil {
		return resp, nil
	}
	resp, err := iso.BuildResponse(s.spec, v, string(code))
	if err == nil {
		return resp, nil
	}
	s.log.Warn("switch answer without echo fields: they did not repack", "code", string(code), "err", err)
	m := iso.NewMessage(s.spec)
	mti := iso.ResponseMTI(v.MTI())
	m.MTI(string(mti[:]))
	if stan := v.Field(11); len(stan) == 6 {
		_ = m.Field(11, string(stan))
	}
	if err := m.Field(39, string(code)); err != nil {
		return nil, err
	}
	return m.Pack()
}

// twoDigits holds "00" to "99": response codes are almost always two
// digits, and converting them through this table spares an allocation per
// answer.
var twoDigits = func() (t [100]string) {
	for i := range t {
		t[i] = string([]byte{byte('0' + i/10), byte('0' + i%10)})
	}
	return t
}()

// codeString is string(b) for a response code, without allocating for two
// digits.
func codeString(b []byte) string {
	if len(b) == 2 && b[0] >= '0' && b[0] <= '9' && b[1] >= '0' && b[1] <= '9' {
		return twoDigits[int(b[0]-'0')*10+int(b[1]-'0')]
	}
	return string(b)
}

// answerSpans are the spans an issuer answer that is journaled from its
// own fields (an unmatched one) is journaled from: all of them, unless the
// guard that keeps card data out of a request's columns (journalLeak)
// finds card data there, then its MTI and STAN only.
func answerSpans(rv *iso.View) entrySpans {
	sp := requestSpans(rv)
	if journalLeak(rv, &sp) != "" {
		return refusedSpans(rv)
	}
	return sp
}
