package switchd

import (
	"sync/atomic"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// counters are the switch's running totals; Stats copies them.
type counters struct {
	connections   atomic.Int64
	requests      atomic.Int64
	relayed       atomic.Int64
	issuerAnswers atomic.Int64
	unreadable    atomic.Int64
	oversized     atomic.Int64
	notRequests   atomic.Int64
	slowAcquirers atomic.Int64
	own           [len(iso.SwitchCodes)]atomic.Int64 // switch-generated answers, by their index in iso.SwitchCodes
	netMgmt       atomic.Int64
	reloads       atomic.Int64
	reloadErrors  atomic.Int64
	journalErrors atomic.Int64
	unmatched     atomic.Int64
}

// Stats is a copy of the switch's counters.
type Stats struct {
	Connections   int64 // acquirer connections accepted
	Requests      int64 // frames with a request MTI
	Relayed       int64 // requests sent to an issuer
	IssuerAnswers int64 // issuer responses relayed to acquirers
	Unreadable    int64 // frames without a readable MTI (no answer possible)
	Oversized     int64 // connections closed for a length header above the maximum
	NotRequests   int64 // frames from acquirers with a response MTI, dropped
	SlowAcquirers int64 // connections closed because they did not read their responses
	Declined15    int64 // switch answers 15: no route for the BIN
	Declined30    int64 // switch answers 30: format error
	Declined91    int64 // switch answers 91: issuer unavailable or late
	Declined96    int64 // switch answers 96: system malfunction
	NetMgmt       int64 // 0800s answered by the switch
	Reloads       int64 // configurations applied by a reload
	ReloadErrors  int64 // reloads rejected (invalid file); the old config kept serving
	JournalErrors int64 // journal writes that failed (the answer was still sent)
	JournalLag    int64 // entries answered but not yet indexed (cardswitch_journal_lag); 0 without a journal
	// UnmatchedAnswers: issuer answers under a request's link STAN that
	// were not its answer; never relayed (cardswitch_issuer_unmatched_answers_total)
	UnmatchedAnswers int64
}

// countOwn counts one answer the switch built itself (ownResponse).
func (c *counters) countOwn(code iso.SwitchCode) {
	if i := iso.SwitchCodeIndex(string(code)); i >= 0 {
		c.own[i].Add(1)
	}
}

func (c *counters) ownCount(code iso.SwitchCode) int64 {
	return c.own[iso.SwitchCodeIndex(string(code))].Load()
}

// OwnAnswers is how many answers with code (one of iso.SwitchCodes) the
// switch built itself; 0 for any other code.
func (s *Switch) OwnAnswers(code string) int64 {
	if i := iso.SwitchCodeIndex(code); i >= 0 {
		return s.stats.own[i].Load()
	}
	return 0
}

// The events below are counted both in Stats and in a metric: each is
// counted here, in one place.

func (s *Switch) countUnreadable() {
	s.stats.unreadable.Add(1)
	s.metrics.Unreadable()
}

func (s *Switch) countUnmatched() {
	s.stats.unmatched.Add(1)
	s.metrics.Unmatched()
}

func (s *Switch) countOversized() {
	s.stats.oversized.Add(1)
	s.metrics.Rejected(metrics.ReasonOversized)
}

func (s *Switch) countSlowAcquirer() {
	s.stats.slowAcquirers.Add(1)
	s.metrics.Rejected(metrics.ReasonSlowReader)
}

// journalLost counts entries the journal could not write (their answers
// went out).
func (s *Switch) journalLost(n int) {
	s.stats.journalErrors.Add(int64(n))
	s.metrics.JournalErrors(n)
}

// Stats returns the current counters.
func (s *Switch) Stats() Stats {
	c := &s.stats
	return Stats{
		Connections: c.connections.Load(), Requests: c.requests.Load(), Relayed: c.relayed.Load(),
		IssuerAnswers: c.issuerAnswers.Load(), Unreadable: c.unreadable.Load(), Oversized: c.oversized.Load(),
		NotRequests: c.notRequests.Load(), SlowAcquirers: c.slowAcquirers.Load(),
		Declined15: c.ownCount(iso.CodeNoRoute), Declined30: c.ownCount(iso.CodeFormatError),
		Declined91: c.ownCount(iso.CodeIssuerDown), Declined96: c.ownCount(iso.CodeSystemError),
		NetMgmt: c.netMgmt.Load(),
		Reloads: c.reloads.Load(), ReloadErrors: c.reloadErrors.Load(), JournalErrors: c.journalErrors.Load(),
		JournalLag: s.journalLag(), UnmatchedAnswers: c.unmatched.Load(),
	}
}

func (s *Switch) journalLag() int64 {
	if s.jrnl == nil {
		return 0
	}
	return int64(s.jrnl.Lag())
}
