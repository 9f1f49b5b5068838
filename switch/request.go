package switchd

import (
	"context"
	"log/slog"

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
	issuer string // the issuer it was for, when routing got that far
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
	if s.dups != nil {
		dupKey = c.dupKey(v)
		if s.dups.check(dupKey, c.started) {
			c.unlimit(limited)
			c.refuse(v, sp, c.started, refusal{code: iso.CodeDuplicate, reason: "duplicate transmission"})
			return nil
		}
	}
	r := c.newRequest(frame, v, sp, m.Issuer, limited)
	c.inflight.Add(1)
	if err := c.send(snap.issuers[m.IssuerIndex], r, v); err != nil {
		if s.standIn(r, err, false) {
			return nil // decided by the switch, once stored (standin.go); a retry is a duplicate
		}
		c.release(r)
		if isAdvice(v.MTI()) && s.revs != nil {
			c.storeAdvice(r, v)
			return nil
		}
		if s.dups != nil {
			s.dups.forget(dupKey) // no issuer saw it: a retry is not a duplicate
		}
		c.refuse(v, sp, c.started, refusal{code: iso.CodeIssuerDown, reason: err.Error(), issuer: m.Issuer})
		return nil
	}
	s.stats.relayed.Add(1)
	return nil
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
// copy of the frame inside it when it fits.
func (c *acqConn) newRequest(frame []byte, v *iso.View, sp *entrySpans, issuerName string, limited bool) *request {
	r := &request{c: c, limited: limited}
	r.spans[0], r.spans[1] = sp[spanMTI], sp[spanProcessingCode]
	copy(r.spans[2:], sp[spanCurrency:spanPAN])
	t := &r.Txn
	t.Owner, t.Issuer, t.Started = r, issuerName, c.started
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
	return r
}

// send puts r on one of is's links, within the issuer's in-flight cap:
// past it, ErrIssuerBusy at once (the caller answers 91, or stores an
// advice), never a queue. An issuer the switch took offline is not sent
// to: ErrOffline.
func (c *acqConn) send(is *issuer.Issuer, r *request, v *iso.View) error {
	if is.Offline() {
		return issuer.ErrOffline // decided at once: the issuer is not waited for
	}
	if !is.Admit(&r.Txn) {
		c.s.metrics.Rejected(metrics.ReasonInFlight)
		return issuer.ErrIssuerBusy
	}
	c.sending = v // for Record, called back by the link within Send
	err := is.Send(&r.Txn, v.Offset(11))
	c.sending = nil
	return err
}

// isAdvice: 0420/0421 reversal advices are stored and forwarded when the
// issuer cannot take them now.
func isAdvice(mti []byte) bool { return mti[1] == '4' && mti[2] == '2' }

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
	c.queueAfter(resp, 0) // not journaled: nothing to wait for
	c.s.log.Debug("network management answered", "conn", c.id, "code70", string(v.Field(70)), "code", string(code))
}
