package switchd

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/acquirers"
	"github.com/cardswitch/cardswitch/switch/issuer"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// A request's life, from the frame scanned by the read loop (acquirer.go)
// to its hand-over to an issuer link or the switch's own answer, in the
// order it happens: handle (what kind of frame, screened), relay (route,
// limits, duplicates), send (the issuer's cap, a link). Every answer,
// whoever gives it, goes out through response.go.

// request is one request relayed to an issuer: the issuer's Txn (what the
// link needs) and what the switch needs again to answer it. It is its
// Txn's Owner: the link calls it back (response.go). One allocation per
// relayed request.
type request struct {
	issuer.Txn
	c *acqConn
	// spans are where its journal fields lie in Frame (entry.go), but for
	// the amount's and the PAN's, which the Txn holds (the link matches answers
	// by them): with those twice, a request would take the next
	// allocation size class up (480 bytes, not 448).
	spans   [spanCount - 2]iso.Span
	limited bool // it holds an acquirer limiter slot
}

// entrySpans are the spans of r's journal fields.
func (r *request) entrySpans() (sp entrySpans) {
	sp[spanMTI], sp[spanProcessingCode], sp[spanAmount] = r.spans[0], r.spans[1], r.Amount
	copy(sp[spanCurrency:spanPAN], r.spans[2:])
	sp[spanPAN] = r.PAN
	return sp
}

// refusal is the switch's own answer to a request it does not relay: a
// code of the switch's table and why (journaled and logged, never sent).
// The request is answered and the connection keeps reading; a failure of
// the connection itself is a *connError instead.
type refusal struct {
	code   iso.SwitchCode
	reason string
	issuer string   // the issuer it was for, when routing got that far
	req    *request // the relayed request refused after all (off the read loop); nil: the frame being handled
}

// outcome is how the journal records the refusal.
func (r refusal) outcome() journal.Outcome {
	if r.code == iso.CodeDuplicate {
		return journal.Duplicate
	}
	return journal.SwitchDeclined
}

// handle decides what becomes of one frame from the acquirer, scanned
// into v (scanErr the scan's error). It runs on the connection's read
// goroutine and must not block on the issuer. A *connError closes the
// connection once what is queued has gone out.
func (c *acqConn) handle(frame []byte, v *iso.View, scanErr error) error {
	s := c.s
	mti := v.MTI()
	if mti == nil {
		c.unreadableFrame(len(frame), scanErr) // nothing to answer to: no response MTI
		return nil
	}
	if !iso.IsRequestMTI(mti) {
		s.stats.notRequests.Add(1)
		s.log.Warn("acquirer sent a non-request message; ignored", "conn", c.id, "mti", string(mti))
		return nil
	}
	s.stats.requests.Add(1)
	sp, reason := screened(v, scanErr)
	switch {
	case reason != "":
		c.refuse(v, &sp, c.started, refusal{code: iso.CodeFormatError, reason: reason})
	case s.draining.Load() && mti[1] == '8':
		refused := refusedSpans(v) // not a transaction: screen checked nothing
		c.refuse(v, &refused, c.started, refusal{code: iso.CodeIssuerDown, reason: "switch shutting down"})
	case s.draining.Load():
		c.refuse(v, &sp, c.started, refusal{code: iso.CodeIssuerDown, reason: "switch shutting down"})
	case mti[1] == '8':
		c.netMgmt(frame, v)
	default:
		return c.relay(frame, v, &sp)
	}
	return nil
}

// unreadableFrame counts and logs a frame without a readable MTI.
func (c *acqConn) unreadableFrame(n int, scanErr error) {
	c.s.countUnreadable()
	c.unreadable++
	lvl := slog.LevelWarn
	if c.unreadable > unreadableWarnings {
		lvl = slog.LevelDebug // a flood is counted in metrics, not logged line by line
	}
	c.s.log.Log(context.Background(), lvl, "acquirer frame without a readable MTI ignored", "conn", c.id,
		"remote", c.remote, "len", n, "err", scanErr, "count", c.unreadable)
}

// unreadableWarnings: the first frames without an MTI on a connection are
// logged as warnings, the rest at debug level.
const unreadableWarnings = 10

// relay sends a screened request (sp: its journal spans) to its issuer,
// or refuses it: no route, over a limit, a duplicate, no link.
func (c *acqConn) relay(frame []byte, v *iso.View, sp *entrySpans) error {
	s := c.s
	pan, _ := iso.RoutingPAN(v) // screen made sure there is one
	snap := s.routes.Load()
	m, ok := snap.table.Lookup(pan)
	if !ok {
		c.refuse(v, sp, c.started, refusal{code: iso.CodeNoRoute, reason: "no route for BIN"})
		return nil
	}
	limited, rf, err := c.limit(v)
	if rf.code != "" {
		c.refuse(v, sp, c.started, rf)
		return err
	}
	// Only requests about to reach an issuer make a retry a duplicate: one
	// the switch refused before any issuer saw it may be sent again.
	var dupKey uint64
	var orig uint32
	if s.dups != nil {
		if orig, rf = c.original(v); rf.code != "" {
			c.unlimit(limited)
			c.refuse(v, sp, c.started, rf)
			return nil
		}
		dupKey = c.dupKey(v)
		if s.dups.check(dupKey, c.started) {
			c.unlimit(limited)
			c.refuse(v, sp, c.started, refusal{code: iso.CodeDuplicate, reason: "duplicate transmission"})
			return nil
		}
	}
	r := c.newRequest(frame, v, sp, m.Issuer, limited)
	if orig != 0 {
		r.RelinkOriginal(orig)
	}
	c.inflight.Add(1)
	if err := c.send(snap.issuers[m.IssuerIndex], r, v, dupKey); err != nil {
		if s.standIn(r, err, false) {
			return nil // decided by the switch, once stored (standin.go); a retry is a duplicate
		}
		c.release(r)
		c.notSent(r, v, sp, dupKey, m.Issuer, err)
		return nil
	}
	s.stats.relayed.Add(1)
	return nil
}

// notSent answers a request no link took (err): an advice is stored for
// later delivery, else it is refused, 91, or 30 when its issuer's dialect
// cannot express it (an *iso.TranslateError: no retry or store can).
func (c *acqConn) notSent(r *request, v *iso.View, sp *entrySpans, dupKey uint64, issuerName string, err error) {
	s := c.s
	te := (*iso.TranslateError)(nil)
	untranslatable := errors.As(err, &te)
	if isAdvice(v.MTI()) && s.revs != nil && !untranslatable {
		c.storeAdvice(r, v)
		return
	}
	if s.dups != nil {
		s.dups.forget(dupKey) // no issuer saw it: a retry is not a duplicate
	}
	rf := refusal{code: iso.CodeIssuerDown, reason: err.Error(), issuer: issuerName}
	if untranslatable {
		rf.code, rf.reason = iso.CodeFormatError, "request does not translate to the issuer's dialect: "+err.Error()
	}
	c.refuse(v, sp, c.started, rf)
}

// limit applies the per-request checks of identity and load: field 32 must
// be the connection's acquirer's, and the acquirer's and connection's
// in-flight caps and rate, and the switch-wide in-flight cap, must allow
// one more. A refused request gets rf (err: the connection closes after
// it). Otherwise the request holds a place in the switch-wide count
// (s.txns), and limited tells that it also holds an acquirer limiter
// slot; release gives both back, or unlimit before there is a request.
func (c *acqConn) limit(v *iso.View) (limited bool, rf refusal, err error) {
	snap := c.s.routes.Load()
	if reg := snap.acqs; reg != c.reg && !c.reidentify(reg) {
		c.s.log.Warn("acquirer no longer configured after a reload: connection closed", "conn", c.id,
			"remote", c.remote, "was", c.acquirer)
		c.s.metrics.Rejected(metrics.ReasonUnknownAcquirer)
		// The read loop ends; close flushes the 58 first.
		return false, refusal{code: iso.CodeNotPermitted, reason: "acquirer no longer configured"}, errAcquirerRemoved
	}
	if c.inflight.Load() >= int64(c.s.live().Listen.MaxInFlight) {
		c.s.metrics.Rejected(metrics.ReasonInFlight)
		return false, refusal{code: iso.CodeIssuerDown, reason: "connection in-flight cap reached"}, nil
	}
	if c.acq != nil {
		if limited, rf = c.limitAcquirer(v); rf.code != "" {
			return false, rf, nil
		}
	}
	// The switch-wide cap is taken last: a request another check refuses
	// never holds it.
	if !c.s.txns.tryAdd(snap.maxTotal) {
		if limited {
			c.s.limiter.End(c.acq)
		}
		c.s.metrics.Rejected(metrics.ReasonInFlight)
		return false, refusal{code: iso.CodeIssuerDown, reason: "switch-wide in-flight cap reached"}, nil
	}
	return limited, refusal{}, nil
}

// limitAcquirer applies the checks of the connection's acquirer: field 32
// and its limiter (in-flight and rate). limited: the request holds a
// limiter slot.
func (c *acqConn) limitAcquirer(v *iso.View) (limited bool, rf refusal) {
	if !acquirers.CheckInstitution(c.acq, v.Field(32)) {
		c.s.log.Warn("field 32 is not this acquirer's institution id: impersonation refused", "conn", c.id,
			"acquirer", c.acquirer, "field32", string(v.Field(32)))
		c.s.metrics.Rejected(metrics.ReasonInstitution)
		return false, refusal{code: iso.CodeNotPermitted, reason: "field 32 is not the acquirer's institution id"}
	}
	if ok, code := c.s.limiter.Begin(c.acq); !ok {
		reason := metrics.ReasonInFlight
		if code == acquirers.CodeRateExceeded {
			reason = metrics.ReasonRate
		}
		c.s.metrics.Rejected(reason)
		return false, refusal{code: iso.SwitchCode(code), reason: "acquirer limit: " + reason}
	}
	return true, refusal{}
}

// unlimit gives back what limit took, for a request refused before it
// became a request.
func (c *acqConn) unlimit(limited bool) {
	if limited {
		c.s.limiter.End(c.acq)
	}
	c.s.txns.done()
}

// newRequest is the one allocation of a relayed request: its Txn, with a
// copy of the frame inside it when it fits (the canonical frame; from a
// translating or TPDU listener, with what its answer needs: edgeRequest).
func (c *acqConn) newRequest(frame []byte, v *iso.View, sp *entrySpans, issuerName string, limited bool) *request {
	var r *request
	var owner issuer.Owner
	if c.lst.framed() {
		e := &edgeRequest{carry: c.carry, tpdu: c.tpdu}
		r, owner = &e.request, e
	} else {
		r = &request{}
		owner = r
	}
	r.c, r.limited = c, limited
	r.spans[0], r.spans[1] = sp[spanMTI], sp[spanProcessingCode]
	copy(r.spans[2:], sp[spanCurrency:spanPAN])
	t := &r.Txn
	t.Owner, t.Issuer, t.Started = owner, issuerName, c.started
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
	t.PAN, t.Amount = sp[spanPAN], sp[spanAmount]
	// A reversal's answer (0430, 0410) must echo its 90 when it echoes any:
	// one under its link STAN with another 90 acknowledges another reversal.
	t.Original = v.Span(90)
	return r
}

// send puts r on one of is's links, within the issuer's in-flight cap:
// past it, ErrIssuerBusy at once (the caller answers 91, or stores an
// advice), never a queue. An issuer the switch took offline is not sent
// to: ErrOffline.
// key is r's duplicate key (0: none), whose slot Record gives the link
// STAN r goes out with.
func (c *acqConn) send(is *issuer.Issuer, r *request, v *iso.View, key uint64) error {
	if is.Offline() {
		return issuer.ErrOffline // decided at once: the issuer is not waited for
	}
	if !is.Admit(&r.Txn) {
		c.s.metrics.Rejected(metrics.ReasonInFlight)
		return issuer.ErrIssuerBusy
	}
	c.sending, c.sendingKey = v, key // for Record, called back by the link within Send
	c.prepareSent(r, v)
	err := is.SendBurst(&r.Txn, v.Offset(11), &c.burst)
	c.sending, c.sendingKey, c.prepared = nil, 0, false
	return err
}

// original finds the original of an acquirer's reversal (0400, 0420,
// 0421, scanned into v) among the requests relayed within the duplicate
// window, and returns the link STAN it went out with, for the reversal's
// 90 (0: leave 90 as it is). A reversal whose original the switch did
// not relay, although the window covers the original's time, is refused
// with 25: the switch answered the original itself (or never saw it), so
// no issuer holds anything for it. On a journal shared by nodes
// (PostgreSQL) an original this node's window does not know, or knows
// without its link STAN (relayed before the last start), is looked up
// among every node's claims (claimedOriginal). An original older than the
// window is not known either way: relayed unchanged. Any other request:
// 0, at no cost.
func (c *acqConn) original(v *iso.View) (uint32, refusal) {
	if v.MTI()[1] != '4' {
		return 0, refusal{}
	}
	key, ok := c.s.dups.originalKey(c.acquirer, v)
	if !ok {
		return 0, refusal{} // no usable 90: relayed as it is, the issuer judges it
	}
	link, ok := c.s.dups.original(key, c.started)
	if (!ok || link == 0) && c.s.claims != nil {
		if l, found, err := c.claimedOriginal(v); err != nil {
			c.s.log.Warn("reversal: its original cannot be looked up in the shared journal: field 90 relayed as "+
				"the acquirer sent it", "conn", c.id, "acquirer", c.acquirer, "stan", string(v.Field(11)), "err", err)
			return 0, refusal{}
		} else if found {
			link, ok = l, true
		}
	}
	if !ok && c.s.dups.covers(v.Field(90)[10:20], c.started) {
		return 0, refusal{code: iso.CodeNoOriginal, reason: "original not relayed by the switch within journal.duplicate_window"}
	}
	if !ok {
		c.s.log.Warn("reversal of an original older than journal.duplicate_window (by its field 90): field 90 "+
			"relayed as the acquirer sent it", "conn", c.id, "acquirer", c.acquirer, "stan", string(v.Field(11)))
		return 0, refusal{}
	}
	if link == 0 {
		c.s.log.Warn("reversal of a request relayed before the last start: its link STAN is not known, field 90 "+
			"relayed as the acquirer sent it", "conn", c.id, "acquirer", c.acquirer, "stan", string(v.Field(11)))
	}
	return link, refusal{}
}

// originalLookupTimeout bounds claimedOriginal's query: it runs on the
// acquirer connection's read goroutine, which waits for it.
const originalLookupTimeout = time.Second

// claimedOriginal looks the original of the reversal scanned into v (its
// 90 read by originalKey) up among the claims of every node within the
// window: its link STAN, found false when no node relayed it. A query to
// the database on the connection's read goroutine, paid only by a
// reversal whose original this node's window does not hold: a rare
// message, on the path of the rarest ones.
func (c *acqConn) claimedOriginal(v *iso.View) (uint32, bool, error) {
	f := v.Field(90)
	key := journal.AppendClaimKey(nil, c.acquirer, f[:3], f[4:10], v.Field(41), v.Field(37), f[10:20])
	ctx, cancel := context.WithTimeout(context.Background(), originalLookupTimeout)
	defer cancel()
	return c.s.claims.ClaimedLink(ctx, key, c.started.Add(-time.Duration(c.s.dups.window.Load())))
}

// isAdvice: an advice (ISO 8583 function digit 2: 0120, 0220, 0420 and
// their repeats) reports what was decided elsewhere. It is delivered until
// acknowledged, never reversed: one the issuer cannot take now, or does not
// answer in time, is stored and forwarded (reversals.go, storeAdvice).
func isAdvice(mti []byte) bool { return mti[2] == '2' }

// netMgmt answers an acquirer's 0800: sign-on (001), sign-off (002) and
// echo (301) get 00; any other network management code gets 30. Network
// management is not journaled: it moves no money.
func (c *acqConn) netMgmt(frame []byte, v *iso.View) {
	code := iso.CodeApproved
	switch string(v.Field(70)) {
	case iso.NetSignOn, iso.NetSignOff, iso.NetEcho:
	default:
		code = iso.CodeFormatError
	}
	resp, err := iso.NetMgmtResponse(c.s.spec, frame, string(code))
	if err != nil {
		refused := refusedSpans(v)
		c.refuse(v, &refused, c.started, refusal{code: iso.CodeSystemError, reason: err.Error()})
		return
	}
	c.s.stats.netMgmt.Add(1)
	c.queueAfter(resp, 0, nil) // not journaled: nothing to wait for
	c.s.log.Debug("network management answered", "conn", c.id, "code70", string(v.Field(70)), "code", string(code))
}
