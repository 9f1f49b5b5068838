package switchd

import (
	"time"

	"github.com/cardswitch/cardswitch/journal"
)

// A request the switch stood in for after it went out may still be
// answered by its issuer: the answer is journaled beside the decision
// (outcome late, the issuer's code, the decision in the reason) for
// reconciliation, counted, and never relayed. The decision and the late
// answer reach the manager in either order (the answer can overtake the
// hand-over of the timeout), so whichever comes first waits for the
// other, for at most lateMemory.

// lateMemory is how long a decision waits for a late answer, or a late
// answer for its decision: longer than a link remembers a timed-out
// request (issuer.lateMax, 10 minutes).
const lateMemory = 15 * time.Minute

type stoodIn struct {
	code, approval string
	at             time.Time
}

type lateReqAt struct {
	code string
	at   time.Time
}

// decided records the decision for t, which went out to its issuer.
func (r *reversalMgr) decided(t *request, code, approval string) {
	d := stoodIn{code: code, approval: approval, at: time.Now()}
	if l, ok := r.lateFirst[t]; ok {
		delete(r.lateFirst, t)
		r.journalLate(t, d, l.code)
		return
	}
	r.stoodIn[t] = d
}

// lateAnswer takes an issuer's late answer to a request stood in for.
func (r *reversalMgr) lateAnswer(lr lateReq) {
	if d, ok := r.stoodIn[lr.r]; ok {
		delete(r.stoodIn, lr.r)
		r.journalLate(lr.r, d, lr.code)
		return
	}
	r.lateFirst[lr.r] = lateReqAt{code: lr.code, at: time.Now()}
}

// forgetStoodIn drops what waited longer than lateMemory.
func (r *reversalMgr) forgetStoodIn() {
	cut := time.Now().Add(-lateMemory)
	for t, d := range r.stoodIn {
		if d.at.Before(cut) {
			delete(r.stoodIn, t)
		}
	}
	for t, l := range r.lateFirst {
		if l.at.Before(cut) {
			delete(r.lateFirst, t)
			r.journalLate(t, stoodIn{code: "??"}, l.code)
		}
	}
}

// journalLate journals the issuer's late answer code to t beside the
// switch's decision d. The reason starts "stand-in <decision> agreed" or
// "... disagreed" (txn stats counts these).
func (r *reversalMgr) journalLate(t *request, d stoodIn, code string) {
	agreed := (d.code == "00") == (issuerOutcome(t.MTI[:], code) == journal.Approved)
	word := "disagreed"
	if agreed {
		word = "agreed"
	}
	reason := "stand-in " + d.code + " " + word + ": the issuer answered " + code +
		" after the switch stood in"
	if d.approval != "" {
		reason += " (approval code " + d.approval + ")"
	}
	reason += "; not relayed"
	r.s.metrics.StandInLate(t.Issuer, agreed)
	r.s.log.Warn("issuer answered a request the switch stood in for", "issuer", t.Issuer, "stan", string(t.STAN[:]),
		"decision", d.code, "issuer_code", code, "agreed", agreed)
	t.c.finish(&answer{frame: t.Frame, spans: t.entrySpans(), started: t.Started, latency: time.Since(t.Started),
		issuer: t.Issuer, code: code, outcome: journal.Late, reason: reason}, nil)
}
