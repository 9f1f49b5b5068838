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
	"github.com/cardswitch/cardswitch/switch/issuer"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// Response codes the switch generates itself (field 39).
const (
	CodeApproved    = "00"
	CodeNoRoute     = "15" // no route for the card's BIN (no such issuer)
	CodeFormatError = "30" // message framed but not parseable, a mandatory field missing or its content invalid
	CodeLate        = "68" // in the 0420 the switch sends after a timeout: response received too late
	CodeIssuerDown  = "91" // issuer has no live link, or did not answer in time
	CodeDuplicate   = "94" // duplicate transmission, not sent to the issuer again
	CodeSystemError = "96" // internal error, or the issuer's answer was unreadable
)

// handle routes one frame from the acquirer, scanned into v (scanErr the
// scan's error). It runs on the connection's read goroutine and must not
// block on the issuer.
func (c *acqConn) handle(frame []byte, v *iso.View, scanErr error) {
	s := c.s
	mti := v.MTI()
	if mti == nil {
		// Nothing to answer to: without an MTI there is no response MTI.
		s.stats.unreadable.Add(1)
		s.metrics.Unreadable()
		c.unreadable++
		lvl := slog.LevelWarn
		if c.unreadable > unreadableWarnings {
			lvl = slog.LevelDebug // a flood is counted in metrics, not logged line by line
		}
		s.log.Log(context.Background(), lvl, "acquirer frame without a readable MTI ignored", "conn", c.id,
			"remote", c.remote, "len", len(frame), "err", scanErr, "count", c.unreadable)
		return
	}
	if !iso.IsRequestMTI(mti) {
		s.stats.notRequests.Add(1)
		s.log.Warn("acquirer sent a non-request message; ignored", "conn", c.id, "mti", string(mti))
		return
	}
	s.stats.requests.Add(1)
	sp, reason := screened(v, scanErr)
	switch {
	case reason != "":
		c.answerOwn(v, &sp, c.started, "", CodeFormatError, journal.SwitchDeclined, reason)
	case s.draining.Load() && mti[1] == '8':
		c.refuse(v, CodeIssuerDown, "switch shutting down") // not a transaction: screen checked nothing
	case s.draining.Load():
		c.answerOwn(v, &sp, c.started, "", CodeIssuerDown, journal.SwitchDeclined, "switch shutting down")
	case mti[1] == '8':
		c.netMgmt(frame, v)
	default:
		c.relay(frame, v, &sp)
	}
}

// unreadableWarnings: the first frames without an MTI on a connection are
// logged as warnings, the rest at debug level.
const unreadableWarnings = 10

// relay sends a screened request (sp: its journal spans) to its issuer.
func (c *acqConn) relay(frame []byte, v *iso.View, sp *entrySpans) {
	s := c.s
	pan, _ := iso.RoutingPAN(v) // screen made sure there is one
	snap := s.routes.Load()
	m, ok := snap.table.Lookup(pan)
	if !ok {
		c.reject(v, CodeNoRoute, "no route for BIN")
		return
	}
	limited, ok := c.limit(v)
	if !ok {
		return
	}
	// Only requests about to reach an issuer make a retry a duplicate: one
	// the switch refused before any issuer saw it may be sent again.
	var dupKey uint64
	if s.dups != nil {
		dupKey = c.dupKey(v)
		if s.dups.check(dupKey, c.started) {
			c.unlimit(limited)
			c.decline(v, c.started, "", CodeDuplicate, journal.Duplicate, "duplicate transmission")
			return
		}
	}
	t := c.newTxn(frame, v, sp, m.Issuer)
	if limited {
		t.Cookie |= cookieLimited
	}
	c.inflight.Add(1)
	if err := c.send(snap.issuers[m.IssuerIndex], t, v); err != nil {
		c.release(t)
		if isAdvice(v.MTI()) && s.revs != nil {
			c.storeAdvice(t, v)
			return
		}
		if s.dups != nil {
			s.dups.forget(dupKey) // no issuer saw it: a retry is not a duplicate
		}
		c.decline(v, c.started, m.Issuer, CodeIssuerDown, journal.SwitchDeclined, err.Error())
		return
	}
	s.stats.relayed.Add(1)
}

// send puts t on one of is's links, within the issuer's in-flight cap:
// past it, ErrIssuerBusy at once (the caller answers 91, or stores an
// advice), never a queue.
func (c *acqConn) send(is *issuer.Issuer, t *issuer.Txn, v *iso.View) error {
	if !is.Admit(t) {
		c.s.metrics.Rejected(metrics.ReasonInFlight)
		return issuer.ErrIssuerBusy
	}
	return is.Send(t, v.Offset(11))
}

// isAdvice: 0420/0421 reversal advices are stored and forwarded when the
// issuer cannot take them now.
func isAdvice(mti []byte) bool { return mti[1] == '4' && mti[2] == '2' }

func (c *acqConn) newTxn(frame []byte, v *iso.View, sp *entrySpans, issuerName string) *issuer.Txn {
	t := &issuer.Txn{Owner: c, Issuer: issuerName, Started: c.started}
	t.SetFrame(frame)
	copy(t.MTI[:], v.MTI())
	copy(t.STAN[:], v.Field(11))
	if f := v.Field(37); len(f) == len(t.RRN) {
		copy(t.RRN[:], f)
		t.HasRRN = true
	}
	if f := v.Field(41); len(f) == len(t.Terminal) {
		copy(t.Terminal[:], f)
		t.HasTID = true
	}
	t.Spans = *sp
	t.PAN, t.Amount = t.Spans[spanPAN], t.Spans[spanAmount]
	return t
}

// entrySpans are where a request's journal fields lie in its frame, in
// the order below (issuer.Txn.Spans has this type: the compiler keeps the
// two in step).
type entrySpans = [spanCount]iso.Span

const (
	spanMTI = iota
	spanProcessingCode
	spanAmount
	spanCurrency
	spanSTAN
	spanRRN
	spanTerminal
	spanTransmissionTime
	spanPAN   // the routing PAN's digits, in field 2 or track 2 (masked when read)
	spanCount // how many
)

// entrySpanFields are the fields of the spans before spanPAN, in order.
var entrySpanFields = [spanPAN]int{0, 3, 4, 49, 11, 37, 41, 7}

// requestSpans returns the spans of a request's journal fields in v's
// frame.
func requestSpans(v *iso.View) (sp entrySpans) {
	for i, id := range entrySpanFields {
		sp[i] = v.Span(id)
	}
	sp[spanPAN] = iso.RoutingPANSpan(v)
	return sp
}

// Answer relays the issuer's response (issuer.Owner). The journal entry
// takes the request's fields from the Txn's spans; only the debug line
// scans the request again (a View is too large to keep per request).
func (c *acqConn) Answer(t *issuer.Txn, resp []byte, rv *iso.View) {
	s := c.s
	s.stats.issuerAnswers.Add(1)
	code := codeString(rv.Field(39))
	if !s.debugging() {
		var tk journal.Ticket
		latency := t.Latency // the same figure for the journal entry and the metric
		if s.jrnl != nil {
			var masked [pan.MaxLen]byte
			fl := c.fieldsAt(t.Frame, &t.Spans, t.Started, latency, t.Issuer, code, issuerOutcome(t.MTI[:], code), "", &masked)
			tk = c.stage(&fl)
		}
		c.deliver(resp, t.MTI, t.Issuer, code, latency, t, tk)
		return
	}
	var req iso.View
	_ = s.scanner.Scan(t.Frame, &req)
	c.finish(&req, &t.Spans, t.Started, resp, t.Issuer, code, issuerOutcome(req.MTI(), code), "", t)
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
// before the acquirer hears 91.
func (c *acqConn) Fail(t *issuer.Txn, err error) {
	s := c.s
	code := CodeIssuerDown
	if errors.Is(err, issuer.ErrBadResponse) {
		code = CodeSystemError
	}
	var v iso.View
	_ = s.scanner.Scan(t.Frame, &v) // it scanned cleanly when it arrived
	if s.revs != nil && isAdvice(v.MTI()) {
		c.release(t)
		c.storeAdvice(t, &v)
		return
	}
	resp, berr := s.response(&v, code)
	if berr != nil {
		s.log.Error("cannot build switch response", "conn", c.id, "code", code, "err", berr)
		c.release(t)
		return
	}
	s.stats.countOwn(code)
	outcome := journal.TimedOut
	if code == CodeSystemError {
		outcome = journal.SwitchDeclined
	}
	f := c.finished(&v, t.Started, resp, t.Issuer, code, outcome, err.Error(), t)
	if s.revs != nil && v.MTI()[1] != '4' {
		s.revs.timedOut(t, &v, f) // stores the 0420, then finishes f
		return
	}
	f.commit()
}

// Late journals an issuer answer that came after the timeout (issuer.LateOwner).
func (c *acqConn) Late(t *issuer.Txn, _ []byte, rv *iso.View) {
	s := c.s
	if s.jrnl == nil {
		return
	}
	var masked [pan.MaxLen]byte
	fl := c.fieldsAt(t.Frame, &t.Spans, t.Started, time.Since(t.Started), t.Issuer, codeString(rv.Field(39)),
		journal.Late, "issuer answered after the timeout; not relayed (the acquirer got 91)", &masked)
	// Nothing waits for it: the committer writes it within the sweep.
	if _, err := s.jrnl.StageFields(&fl); err != nil {
		s.log.Error("late issuer answer not journaled", "conn", c.id, "err", err)
	}
}

// Unmatched journals and counts an issuer answer that came under t's link
// STAN but is not t's answer (issuer.UnmatchedOwner); the link has logged
// it. It was not relayed, and t stays as it was. The entry holds the
// answer's own fields (the PAN masked), so that it can be found by the
// RRN or PAN of the request it answers.
func (c *acqConn) Unmatched(t *issuer.Txn, _ []byte, rv *iso.View, field int, late bool) {
	s := c.s
	s.stats.unmatched.Add(1)
	s.metrics.Unmatched()
	if s.jrnl == nil {
		return
	}
	state := "pending"
	if late {
		state = "timed out"
	}
	what := "the MTI"
	if field > 0 {
		what = "field " + strconv.Itoa(field)
	}
	reason := "issuer answer under link STAN " + strconv.FormatUint(uint64(t.LinkSTAN()), 10) +
		" is not the answer to the request " + state + " there (acquirer STAN " + string(t.STAN[:]) +
		"): " + what + " differs; not relayed"
	var masked [pan.MaxLen]byte
	fl := c.entryFields(rv, time.Now(), 0, t.Issuer, codeString(rv.Field(39)), journal.Unmatched, reason, &masked)
	if _, err := s.jrnl.StageFields(&fl); err != nil {
		s.log.Error("unmatched issuer answer not journaled", "conn", c.id, "err", err)
	}
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
