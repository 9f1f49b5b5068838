package switchd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/issuer"
	"github.com/moov-io/iso8583"
)

// Stand-in (README "Stand-in"): when an issuer with stand_in enabled has
// no live link, is offline, or does not answer an authorization or
// financial request in time, the switch decides for it within the
// issuer's limits, and owes the issuer an 0120 advice of the decision.
//
// The decision, the card's counters, the day's approval code number and
// the advice (and, for a decline after a timeout, the 0420) commit in one
// journal transaction, on the reversal manager's goroutine, BEFORE the
// acquirer hears the answer: a crash can lose neither the advice of an
// answer given nor a count. That goroutine is the only one of this node
// that decides; on PostgreSQL the journal locks each card for the
// transaction, so that nodes decide for a card one at a time.

// standInWhy is why the switch stood in: field 60 of the advice, and the
// journal entry's reason.
type standInWhy string

// Field 60 of a stand-in advice (README "Stand-in").
const (
	whyNoLink   standInWhy = "STIP01" // the issuer had no live link
	whyOffline  standInWhy = "STIP02" // the switch held the issuer offline (offline_after)
	whyTimedOut standInWhy = "STIP03" // the issuer did not answer within its timeout
	whyLinkLost standInWhy = "STIP04" // the link broke with the request in flight
)

func (w standInWhy) text() string {
	switch w {
	case whyNoLink:
		return "issuer has no live link"
	case whyOffline:
		return "issuer offline"
	case whyTimedOut:
		return "issuer timed out"
	}
	return "issuer link lost with the request in flight"
}

// standInReq is one request handed to the manager for a decision.
type standInReq struct {
	r   *request
	why standInWhy
	// sent: the request went out to the issuer (timed out, link lost):
	// the issuer may hold funds, so a decline also stores the 0420.
	sent bool
}

// lateReq is an issuer answer to a request the switch stood in for.
type lateReq struct {
	r    *request
	code string
}

// standInCode is the decision for a request of amount, processing code
// pc and MCC mcc, for a card with count approvals totalling total within
// the window: 00, or the decline code and the rule that declined it.
func standInCode(si *config.StandIn, pc, mcc []byte, amount int64, count int, total int64) (iso.SwitchCode, string) {
	switch {
	case len(pc) >= 2 && slices.Contains(si.BlockProcessing, string(pc[:2])):
		return iso.CodeNotForCard, "processing code " + string(pc[:2]) + " is in block_processing"
	case len(mcc) > 0 && slices.Contains(si.BlockMCC, string(mcc)):
		return iso.CodeNotForCard, "MCC " + string(mcc) + " is in block_mcc"
	case amount > si.MaxAmount:
		return iso.CodeOverAmount, "amount over max_amount"
	case si.MaxCount > 0 && count+1 > si.MaxCount:
		return iso.CodeRateExceeded, "card at max_count within the window"
	case si.MaxTotal > 0 && total+amount > si.MaxTotal:
		return iso.CodeOverAmount, "card over max_total within the window"
	}
	return iso.CodeApproved, "within the limits"
}

// standInFor is issuer name's stand-in config when stand-in applies to a
// request of mti: enabled, a journal to keep it in, and an authorization
// or financial request (0100, 0200). nil otherwise.
func (s *Switch) standInFor(name string, mti []byte) *config.StandIn {
	if s.revs == nil || len(mti) != 4 || mti[2] != '0' || mti[3] != '0' || (mti[1] != '1' && mti[1] != '2') {
		return nil
	}
	cfg := s.live()
	i := cfg.IssuerIndex(name)
	if i < 0 || !cfg.Issuers[i].StandIn.Enabled {
		return nil
	}
	return &cfg.Issuers[i].StandIn
}

// whyFor maps a send or request failure to the reason to stand in, ""
// when it is not one (the issuer's in-flight cap, a busy link: 91).
func whyFor(err error) standInWhy {
	switch {
	case errors.Is(err, issuer.ErrOffline):
		return whyOffline
	case errors.Is(err, issuer.ErrNoLink):
		return whyNoLink
	case errors.Is(err, issuer.ErrTimeout):
		return whyTimedOut
	case errors.Is(err, issuer.ErrLinkLost):
		return whyLinkLost
	}
	return ""
}

// standIn hands r, which failed with err, to the manager for a stand-in
// decision, and reports whether it did (r and its slots are then the
// manager's, released once answered). sent: r went out to the issuer.
func (s *Switch) standIn(r *request, err error, sent bool) bool {
	why := whyFor(err)
	if why == "" || s.standInFor(r.Issuer, r.MTI[:]) == nil {
		return false
	}
	s.revs.standIns <- standInReq{r: r, why: why, sent: sent}
	return true
}

// standInDecision is one decision made in a batch, and what its acquirer
// and the issuer get.
type standInDecision struct {
	standInReq
	code     iso.SwitchCode
	approval string // field 38 when approved
	rule     string
	amount   int64
	resp     []byte
	err      error // the decision could not be made or stored: 91
}

// standInBatch decides first and whatever else is queued, stores every
// decision with its advice in one transaction, then answers the
// acquirers.
func (r *reversalMgr) standInBatch(first standInReq) {
	batch := drainQueued(first, r.standIns)
	ds := make([]standInDecision, len(batch))
	now := time.Now()
	err := r.j.StandIn(context.Background(), func(st *journal.StandInTx) error {
		// Each call starts afresh: PostgreSQL runs the transaction again
		// after a deadlock, and a decision must not keep the first run's.
		var rows []*journal.Reversal
		forgotten := map[string]bool{}
		for i := range batch {
			ds[i] = standInDecision{standInReq: batch[i]}
			rows = append(rows, r.decide(st, &ds[i], now, forgotten)...)
		}
		return st.AddReversals(rows)
	})
	for i := range ds {
		r.answerStandIn(&ds[i], err)
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// decide makes d's decision in st and returns the rows it owes the
// issuer: its advice, and the 0420 of a decline after the request went
// out. A decision that cannot be made sets d.err (answered 91).
func (r *reversalMgr) decide(st *journal.StandInTx, d *standInDecision, now time.Time, forgotten map[string]bool) []*journal.Reversal {
	s, t := r.s, d.r
	si := s.standInFor(t.Issuer, t.MTI[:])
	var v iso.View
	if si == nil { // disabled by a reload meanwhile
		d.err = errors.New("stand-in disabled")
		return nil
	}
	if d.err = s.scanner.Scan(t.Frame, &v); d.err != nil {
		return nil
	}
	pan, _ := iso.RoutingPAN(&v)
	card, err := r.j.CardHash(pan)
	if err != nil {
		d.err = err
		return nil
	}
	if !forgotten[t.Issuer] {
		forgotten[t.Issuer] = true
		if d.err = st.Forget(t.Issuer, now.Add(-si.Window)); d.err != nil {
			return nil
		}
	}
	d.amount, _ = strconv.ParseInt(string(v.Field(4)), 10, 64)
	count, total, err := st.Usage(t.Issuer, card, now.Add(-si.Window))
	if err != nil {
		d.err = err
		return nil
	}
	d.code, d.rule = standInCode(si, v.Field(3), v.Field(18), d.amount, count, total)
	if d.code == iso.CodeApproved {
		if d.approval, d.err = approvalCode(st, now); d.err == nil {
			d.err = st.Use(t.Issuer, card, now, d.amount)
		}
		if d.err != nil {
			return nil
		}
	}
	return r.standInRows(d, &v, now)
}

// standInRows builds the acquirer's answer and the rows owed for d.
func (r *reversalMgr) standInRows(d *standInDecision, v *iso.View, now time.Time) []*journal.Reversal {
	s, t := r.s, d.r
	if d.resp, d.err = s.ownResponse(v, d.code); d.err == nil && d.approval != "" {
		d.resp, d.err = withField(s.spec, d.resp, 38, d.approval)
	}
	if d.err != nil {
		return nil
	}
	advice, err := buildStandInAdvice(s.spec, t.Frame, v, d)
	if err != nil {
		d.err = err
		return nil
	}
	rows := []*journal.Reversal{{Created: now, Issuer: t.Issuer, STAN: string(t.STAN[:]), RRN: string(v.Field(37)),
		Frame: advice, NextAttempt: now, Kind: journal.KindStandIn}}
	if d.sent && d.code != iso.CodeApproved {
		// The issuer may have approved and hold funds: today's 0420.
		orig := originalData(&t.Txn, v)
		rev, err := buildReversal(s.spec, &t.Txn, v, orig, now)
		if err != nil {
			d.err = err
			return nil
		}
		rows = append(rows, &journal.Reversal{Created: now, Issuer: t.Issuer, STAN: string(t.STAN[:]),
			RRN: string(v.Field(37)), Frame: rev, NextAttempt: now})
	}
	return rows
}

// answerStandIn answers d's acquirer: its decision once stored (storeErr
// nil), else 91 as without stand-in.
func (r *reversalMgr) answerStandIn(d *standInDecision, storeErr error) {
	s, t := r.s, d.r
	if d.err == nil {
		d.err = storeErr
	}
	if d.err != nil {
		s.log.Error("stand-in decision not stored: answered 91", "issuer", t.Issuer, "stan", string(t.STAN[:]),
			"err", d.err)
		s.metrics.StandIn(t.Issuer, string(iso.CodeIssuerDown))
		var v iso.View
		_ = s.scanner.Scan(t.Frame, &v) // it scanned cleanly when it arrived
		resp, err := s.ownResponse(&v, iso.CodeIssuerDown)
		if err != nil {
			resp = nil
		}
		d91 := deferred{r: t, resp: resp, code: string(iso.CodeIssuerDown), outcome: journal.TimedOut,
			reason: "stand-in failed: " + d.err.Error(), release: true}
		if d.sent {
			r.decided(t, string(iso.CodeIssuerDown), "") // a late answer is journaled beside the 91
			r.storeTimeout(t, &v, d91)                   // the 0420 as without stand-in
			return
		}
		d91.finish()
		return
	}
	s.metrics.StandIn(t.Issuer, string(d.code))
	reason := "stand-in (" + d.why.text() + "): " + d.rule
	if d.approval != "" {
		reason += "; approval code " + d.approval
	}
	if d.sent {
		r.decided(t, string(d.code), d.approval)
	}
	(&deferred{r: t, resp: d.resp, code: string(d.code), outcome: journal.StandIn, reason: reason,
		release: true}).finish()
}

// approvalCode is the next stand-in approval code (field 38) of the UTC
// day: "S" and the day's number in five base-36 digits (S00001, ...,
// SZZZZZ), unique within the day across restarts.
func approvalCode(st *journal.StandInTx, now time.Time) (string, error) {
	seq, err := st.NextSeq(now.UTC().Format("20060102"))
	if err != nil {
		return "", err
	}
	if seq >= 36*36*36*36*36 {
		return "", errors.New("the day's stand-in approval codes are used up")
	}
	code := strconv.FormatInt(seq, 36)
	return "S" + pad(toUpper(code), 5), nil
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// buildStandInAdvice is the 0120 of d: the request's fields (its PAN in
// 2, but no track, PIN or ICC data), 39 = the decision, 38 when approved,
// 60 = why the switch stood in.
func buildStandInAdvice(spec *iso8583.MessageSpec, frame []byte, v *iso.View, d *standInDecision) ([]byte, error) {
	stripped, err := stripCardData(spec, frame, v)
	if err != nil {
		return nil, err
	}
	m := iso8583.NewMessage(spec)
	if err := m.Unpack(stripped); err != nil {
		return nil, err
	}
	m.MTI("0120")
	if err := m.Field(39, string(d.code)); err != nil {
		return nil, err
	}
	if d.approval != "" {
		if err := m.Field(38, d.approval); err != nil {
			return nil, err
		}
	}
	if err := m.Field(60, string(d.why)); err != nil {
		return nil, err
	}
	return m.Pack()
}

// withField sets field id of a packed message.
func withField(spec *iso8583.MessageSpec, frame []byte, id int, value string) ([]byte, error) {
	m := iso8583.NewMessage(spec)
	if err := m.Unpack(frame); err != nil {
		return nil, err
	}
	if err := m.Field(id, value); err != nil {
		return nil, fmt.Errorf("field %d: %w", id, err)
	}
	return m.Pack()
}

// expireAdvices moves the stand-in advices past their issuer's
// advice_ttl to the exception list, at most every expireEvery (or the
// smallest advice_ttl, if smaller).
func (r *reversalMgr) expireAdvices() {
	now := time.Now()
	if now.Before(r.nextExpire) {
		return
	}
	every := expireEvery
	for _, ic := range r.s.live().Issuers {
		every = min(every, ic.StandIn.AdviceTTL)
		n, err := r.j.ExpireAdvices(ic.Name, now.Add(-ic.StandIn.AdviceTTL), now)
		switch {
		case err != nil:
			r.s.log.Error("cannot move expired stand-in advices to the exception list", "issuer", ic.Name, "err", err)
		case n > 0:
			r.s.log.Warn("stand-in advices past advice_ttl moved to the exception list (cardswitch txn advices)",
				"issuer", ic.Name, "advices", n)
		}
	}
	r.nextExpire = now.Add(every)
}

// expireEvery is how often, at most, advices are checked against their
// advice_ttl: a TTL is hours; the check is a write.
const expireEvery = 10 * time.Second
