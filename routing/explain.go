package routing

import (
	"fmt"
	panmask "github.com/cardswitch/cardswitch/internal/pan"
	"slices"
	"strings"
)

// Explanation tells why a PAN routes where it does: the winner and every
// other rule that matched, each with the reason it lost.
type Explanation struct {
	// PAN is the masked card number (first 6, last 4).
	PAN string
	// Match and Found are what Lookup returns for the PAN.
	Match Match
	Found bool
	// Candidates are every rule covering the PAN, winner first, then in the
	// order they lose (longer bins first, narrower ranges first).
	Candidates []Candidate
	// Reason explains the outcome in one phrase, e.g. "longest match",
	// "no rule matched: default_issuer", "PAN is not 1..19 digits".
	Reason string
}

// Candidate is one rule that covers the PAN.
type Candidate struct {
	Rule   int    // index in routes
	BIN    string // the rule's bin text
	Issuer string
	// Lost is "" for the winner, otherwise why it lost to the winner:
	// "shorter prefix", "shorter range", "wider range".
	Lost string
}

// Explain looks pan up like Lookup and lists every matching rule. It scans
// all rules, so it is for diagnostics (`cardswitch route`), not the hot path.
func (t *Table) Explain(pan []byte) Explanation {
	e := Explanation{PAN: panmask.Mask(pan)}
	e.Match, e.Found = t.Lookup(pan)
	switch {
	case t == nil:
		e.Reason = "no routing table"
		return e
	case !validPAN(pan):
		e.Reason = "PAN is not 1..19 digits"
		return e
	}
	for i, r := range t.ranges {
		if r.n <= len(pan) && r.covers(r.n, digitsValue(pan[:r.n])) {
			e.Candidates = append(e.Candidates, Candidate{Rule: i, BIN: t.bins[i], Issuer: t.issuers[t.issuer[i]]})
		}
	}
	slices.SortFunc(e.Candidates, func(a, b Candidate) int { return t.compareRules(a.Rule, b.Rule) })
	switch {
	case len(e.Candidates) > 0:
		e.Reason = "longest match"
		if len(e.Candidates) == 1 {
			e.Reason = "only match"
		}
		win := t.ranges[e.Candidates[0].Rule]
		for k := 1; k < len(e.Candidates); k++ {
			e.Candidates[k].Lost = lossReason(t.ranges[e.Candidates[k].Rule], win)
		}
	case e.Found:
		e.Reason = "no rule matched: default_issuer"
	default:
		e.Reason = "no rule matched and no default_issuer"
	}
	return e
}

// compareRules orders rules by precedence: longer bins first, then
// narrower ranges, then route index (validation rejects true ties).
func (t *Table) compareRules(a, b int) int {
	ra, rb := t.ranges[a], t.ranges[b]
	if ra.n != rb.n {
		return rb.n - ra.n
	}
	if wa, wb := ra.width(), rb.width(); wa != wb {
		if wa < wb {
			return -1
		}
		return 1
	}
	return a - b
}

func lossReason(loser, winner binRange) string {
	switch {
	case loser.n < winner.n && loser.width() == 1:
		return "shorter prefix"
	case loser.n < winner.n:
		return "shorter range"
	default:
		return "wider range"
	}
}

// String renders the explanation for humans, one candidate per line.
func (e Explanation) String() string {
	var b strings.Builder
	if e.Found {
		fmt.Fprintf(&b, "%s -> %s (%s)\n", e.PAN, e.Match.Issuer, e.Reason)
	} else {
		fmt.Fprintf(&b, "%s -> no issuer (%s)\n", e.PAN, e.Reason)
	}
	for _, c := range e.Candidates {
		status := "wins"
		if c.Lost != "" {
			status = "loses: " + c.Lost
		}
		fmt.Fprintf(&b, "  routes[%d] bin %q -> %s: %s\n", c.Rule, c.BIN, c.Issuer, status)
	}
	return b.String()
}

func validPAN(pan []byte) bool {
	if len(pan) == 0 || len(pan) > MaxPANDigits {
		return false
	}
	for _, c := range pan {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func digitsValue(d []byte) uint64 {
	var v uint64
	for _, c := range d {
		v = v*10 + uint64(c-'0')
	}
	return v
}
