package switchd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/metrics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The "nothing lost" tests: a real switch with its journal in a temp dir,
// real sockets and a real issuer simulator. They prove that every answer
// is journaled with masked card data, that money in doubt is reversed
// exactly once (across retries and restarts), that retransmissions are not
// authorized twice, and that advices survive an issuer outage.

const (
	panApprove = "4111111111111111"
	panDecline = "4111111111110051" // simulator rule: 51
	panSilent  = "4111111111110009" // simulator rule: never answered
	panLate    = "4111111111110007" // simulator rule: answered after the issuer timeout
	panNoRoute = "6011000000000004"
	panDown    = "5555555555554444" // routed to an issuer with no live link
	panFormat  = "4000000000000002"
)

func lostSim(drop int) config.Simulator {
	return config.Simulator{Name: "bank", ReversalDrop: drop, Rules: []config.SimRule{
		{PANSuffix: "0051", Code: "51"},
		{PANSuffix: "0009", NoAnswer: true},
		{PANSuffix: "0007", Delay: 600 * time.Millisecond},
	}}
}

// a. Every outcome is journaled with what an auditor needs, and the
// journal file never holds a full PAN.
func TestJournalRecordsEveryAnswer(t *testing.T) {
	sim, _ := startWatchedSim(t, lostSim(0))
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "5s", deadAddr(t)), "bank")
	c := dial(t, sw.addr)

	type want struct {
		pan, issuer, code string
		outcome           journal.Outcome
		amount            int64
		relayed           bool
	}
	cases := map[int]want{
		1: {panApprove, "bank", "00", journal.Approved, 1000, true},
		2: {panDecline, "bank", "51", journal.Declined, 2000, true},
		3: {panNoRoute, "", "15", journal.SwitchDeclined, 3000, false},
		4: {panDown, "down", "91", journal.SwitchDeclined, 4000, false},
	}
	for stan := 1; stan <= len(cases); stan++ {
		w := cases[stan]
		require.Equal(t, w.code, str(t, send(t, c, auth(w.pan, w.amount, stan)), 39), "stan %d", stan)
	}
	// 30: field 4 missing; no library sends that, so by hand.
	raw := dialRaw(t, sw.addr)
	m, err := auth(panFormat, 0, 5).Message()
	require.NoError(t, err)
	m.UnsetField(4)
	body, err := m.Pack()
	require.NoError(t, err)
	raw.write(t, body)
	require.Equal(t, "30", str(t, raw.read(t), 39))

	// Every answer the acquirer heard is journaled (that it was durable
	// first is TestAnswerIsDurableBeforeItGoesOut's); the index follows
	// the log.
	require.NoError(t, sw.FlushJournal(context.Background()))
	byRRN := entriesByRRN(t, path)
	for stan, w := range cases {
		rrn := fmt.Sprintf("%012d", stan)
		require.Len(t, byRRN[rrn], 1, "entries for rrn %s", rrn)
		e := byRRN[rrn][0]
		amount := fmt.Sprintf("%012d", w.amount)
		if w.amount < 0 {
			amount = ""
		}
		assert.Equal(t, journal.Entry{ID: e.ID, Time: e.Time, Conn: e.Conn, Remote: e.Remote, Latency: e.Latency,
			Reason: e.Reason, Issuer: w.issuer, MTI: "0100", ProcessingCode: "000000", Amount: amount,
			Currency: "840", STAN: fmt.Sprintf("%06d", stan), RRN: rrn, Terminal: "TERM0001",
			TransmissionTime: e.TransmissionTime, PAN: w.pan[:6] + "******" + w.pan[12:],
			ResponseCode: w.code, Outcome: w.outcome}, e, "stan %d", stan)
		assert.Len(t, e.TransmissionTime, 10)
		assert.GreaterOrEqual(t, e.Latency, time.Duration(0))
		if w.relayed {
			assert.Positive(t, e.Latency, "stan %d: latency of a relayed request", stan)
		} else {
			assert.NotEmpty(t, e.Reason, "stan %d: a switch decline says why", stan)
		}
	}

	// A refused request (30) is journaled with its MTI, STAN and reason
	// only: none of its other fields is trusted.
	require.Len(t, byRRN[""], 1, "entries without an RRN")
	e := byRRN[""][0]
	assert.Equal(t, journal.Entry{ID: e.ID, Time: e.Time, Conn: e.Conn, Remote: e.Remote, Latency: e.Latency,
		MTI: "0100", STAN: "000005", ResponseCode: "30", Outcome: journal.SwitchDeclined,
		Reason: "mandatory field 4 missing"}, e)
	cases[5] = want{pan: panFormat}

	var pans []string
	for _, w := range cases {
		pans = append(pans, w.pan)
	}
	// SQLite, its WAL, the log segments, and every entry decoded.
	require.NotZero(t, assertNoCardData(t, path, pans...))
	sw.stop() // checkpoints the WAL into the main file
	require.NotZero(t, assertNoCardData(t, path, pans...))
}

// TestAnswerIsDurableBeforeItGoesOut: when the acquirer reads an answer,
// relayed or the switch's own, its journal entry's record is already in
// the log file (what a restart after kill -9 indexes): the connection's
// writer commits its answers' entries before it sends them. Without that
// the record would reach the log up to a few ms later.
func TestAnswerIsDurableBeforeItGoesOut(t *testing.T) {
	sim, _ := startWatchedSim(t, lostSim(0))
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "5s", deadAddr(t)), "bank")
	c := dial(t, sw.addr)
	for stan := 100; stan < 160; stan++ {
		pan, code := panApprove, "00"
		if stan%3 == 0 {
			pan, code = panNoRoute, "15"
		}
		require.Equal(t, code, str(t, send(t, c, auth(pan, 1000, stan)), 39))
		// In a record the STAN and the RRN follow each other, each behind
		// its length.
		rec := fmt.Sprintf("\x06%06d\x0c%012d", stan, stan)
		require.True(t, logHolds(t, path, rec), "stan %d: answered before its entry was in the log", stan)
	}
}

// logHolds reports whether a segment of the journal's log holds s.
func logHolds(t *testing.T, path, s string) bool {
	t.Helper()
	segs, err := filepath.Glob(path + "-log/*.seg")
	require.NoError(t, err)
	for _, f := range segs {
		b, err := os.ReadFile(f) // #nosec G304 -- the test's own journal
		if errors.Is(err, fs.ErrNotExist) {
			continue // indexed and removed meanwhile
		}
		require.NoError(t, err)
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// b. A timed-out authorization is reversed: one 0420 (39=68, field 90 with
// the STAN the issuer saw) retried until the issuer acknowledges it, and
// acknowledged exactly once.
func TestTimeoutReversalAcknowledgedOnce(t *testing.T) {
	const drop, n = 2, 3
	sim, log := startWatchedSim(t, lostSim(drop))
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "1s", ""), "bank")
	c := dial(t, sw.addr)
	for stan := 1; stan <= n; stan++ {
		require.Equal(t, "91", str(t, send(t, c, auth(panSilent, 100, stan)), 39))
	}
	require.Equal(t, "00", str(t, send(t, c, auth(panApprove, 100, 99)), 39)) // no reversal for this one

	log.wait(t, "every reversal answered", answeredAtLeast(n, drop))
	awaitNoReversalsOwed(t, path)
	sw.stop() // nothing more can be sent: the counts below are final

	rs := log.snapshot()
	issuerSTAN := map[string]string{} // RRN -> STAN the issuer saw on the 0100
	for _, r := range rs {
		if r.MTI == "0100" {
			issuerSTAN[r.RRN] = r.STAN
		}
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if r.MTI != "0420" && r.MTI != "0421" {
			continue
		}
		require.Len(t, r.Original, 42, "field 90")
		assert.Equal(t, "68", r.Code)
		assert.Equal(t, "411111******0009", r.MaskedPAN, "a reversal carries the PAN (2)")
		assert.Equal(t, "0100", r.Original[:4])
		assert.Equal(t, issuerSTAN[r.RRN], r.Original[4:10], "field 90 STAN is the one the issuer saw")
		assert.NotEqual(t, fmt.Sprintf("%012d", 99), r.RRN, "the approval was reversed")
		seen[r.RRN] = true
	}
	assert.Len(t, seen, n, "one reversal per timed-out authorization")
	for orig, k := range reversalAttempts(rs) {
		assert.Equal(t, drop+1, k, "attempts of %s: answered once, then never sent again", orig)
	}
	assert.EqualValues(t, n, sim.Stats().ReversalsAcked)
}

// b (restart). A reversal owed when the switch stops is delivered by the
// next switch on the same journal, and acknowledged exactly once.
func TestTimeoutReversalSurvivesRestart(t *testing.T) {
	const drop = 2
	sim, log := startWatchedSim(t, lostSim(drop))
	path := journalPath(t)
	yaml := lostYAML(path, sim.Addr(), "1s", "")
	sw1 := startSwitch(t, yaml, "bank")
	require.Equal(t, "91", str(t, send(t, dial(t, sw1.addr), auth(panSilent, 100, 1)), 39))
	log.wait(t, "the first (dropped) attempt", func(rs []issuersim.Request) bool { return len(reversalAttempts(rs)) == 1 })
	sw1.stop()

	owed, err := openJournal(t, path).PendingReversals()
	require.NoError(t, err)
	require.Len(t, owed, 1, "the reversal is still owed after the stop")
	orig := field90(t, owed[0].Frame)

	sw2 := startSwitch(t, yaml, "bank")
	log.wait(t, "the reversal answered", answeredAtLeast(1, drop))
	awaitNoReversalsOwed(t, path)
	sw2.stop()
	assert.Equal(t, map[string]int{orig: drop + 1}, reversalAttempts(log.snapshot()))
	assert.EqualValues(t, 1, sim.Stats().ReversalsAcked)
}

// b (late). An answer after the timeout is journaled as late with the
// issuer's code, and the authorization is still reversed.
func TestLateAnswerJournaledAndReversed(t *testing.T) {
	sim, log := startWatchedSim(t, lostSim(0))
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "200ms", ""), "bank")
	require.Equal(t, "91", str(t, send(t, dial(t, sw.addr), auth(panLate, 100, 1)), 39))
	rrn := fmt.Sprintf("%012d", 1)
	log.wait(t, "the reversal of the late authorization", func(rs []issuersim.Request) bool {
		return len(reversalAttempts(rs)) == 1
	})
	awaitNoReversalsOwed(t, path)

	j := openJournal(t, path)
	var late journal.Entry
	require.Eventually(t, func() bool {
		es, err := j.List(context.Background(), journal.Filter{RRN: rrn, Outcome: journal.Late})
		if err != nil || len(es) == 0 {
			return false
		}
		late = es[0]
		return true
	}, lostDeadline, 10*time.Millisecond, "no late entry")
	assert.Equal(t, "00", late.ResponseCode, "the issuer's code")
	assert.Equal(t, "411111******0007", late.PAN)
	es, err := j.List(context.Background(), journal.Filter{RRN: rrn, Outcome: journal.TimedOut})
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, "91", es[0].ResponseCode, "what the acquirer heard")
}

// e. A retransmission gets 94 and never reaches the issuer, also after a
// restart within the duplicate window.
func TestDuplicateNotAuthorizedTwice(t *testing.T) {
	sim, log := startWatchedSim(t, lostSim(0))
	path := journalPath(t)
	yaml := lostYAML(path, sim.Addr(), "5s", "")
	req := auth(panApprove, 100, 42)
	req.Time = time.Now() // field 7 is part of the identity: keep it

	sw1 := startSwitch(t, yaml, "bank")
	c := dial(t, sw1.addr)
	require.Equal(t, "00", str(t, send(t, c, req), 39))
	require.Equal(t, "94", str(t, send(t, c, req), 39))
	other := req
	other.STAN, other.RRN = 43, fmt.Sprintf("%012d", 43)
	require.Equal(t, "00", str(t, send(t, c, other), 39), "another STAN is not a duplicate")
	sw1.stop()

	sw2 := startSwitch(t, yaml, "bank")
	require.Equal(t, "94", str(t, send(t, dial(t, sw2.addr), req), 39), "after a restart")
	sw2.stop()

	auths := 0
	for _, r := range log.snapshot() {
		if r.MTI == "0100" && r.RRN == req.RRN {
			auths++
		}
	}
	assert.Equal(t, 1, auths, "the issuer saw the request once")
	es, err := openJournal(t, path).List(context.Background(), journal.Filter{RRN: req.RRN})
	require.NoError(t, err)
	var codes []string
	for _, e := range es {
		codes = append(codes, e.ResponseCode+"/"+string(e.Outcome))
	}
	assert.ElementsMatch(t, []string{"00/approved", "94/duplicate", "94/duplicate"}, codes)
}

// f. An acquirer's 0420 while the issuer has no live link is accepted at
// once and delivered, with its PAN and without other card data, when the
// issuer comes up: its first attempt is an 0420, not a repeat.
func TestAdviceStoredWhileIssuerDown(t *testing.T) {
	addr := deadAddr(t)
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, addr, "1s", ""))
	adv := auth(panApprove, 100, 77)
	adv.MTI = "0420"
	resp := send(t, dial(t, sw.addr), adv)
	require.Equal(t, "0430", mti(t, resp))
	require.Equal(t, "00", str(t, resp, 39))
	n, err := openJournal(t, path).ReversalCount()
	require.NoError(t, err)
	require.Equal(t, 1, n, "stored before the 0430 went out")

	_, log := startWatchedSim(t, config.Simulator{Name: "bank", Listen: addr})
	rs := log.wait(t, "the advice", func(rs []issuersim.Request) bool { return len(reversalAttempts(rs)) == 1 })
	awaitNoReversalsOwed(t, path)
	for _, r := range rs {
		if r.MTI[1] == '4' {
			assert.Equal(t, "0420", r.MTI, "never sent before: not a repeat")
			assert.Equal(t, "411111******1111", r.MaskedPAN, "advice forwarded with its PAN")
			assert.Equal(t, adv.RRN, r.RRN)
			assert.Equal(t, "000000000100", r.Amount)
		}
	}
	assert.False(t, strings.Contains(fmt.Sprint(rs), panApprove), "the simulator's observer sees masked PANs only")
}

// g. When the journal cannot write (here it is closed under the switch, as
// a full disk would fail it), the acquirer still gets its answer: the
// audit trail never holds up a payment. The failure is counted, in the
// stats and in cardswitch_journal_errors_total, for an alert.
func TestAnswerGoesOutWhenTheJournalFails(t *testing.T) {
	sim, _ := startWatchedSim(t, lostSim(0))
	sw := startSwitch(t, lostYAML(journalPath(t), sim.Addr(), "5s", ""), "bank")
	c := dial(t, sw.addr)
	require.Equal(t, "00", str(t, send(t, c, auth(panApprove, 100, 1)), 39))
	require.Zero(t, sw.Stats().JournalErrors)

	require.NoError(t, sw.BreakJournal())
	require.Equal(t, "00", str(t, send(t, c, auth(panApprove, 100, 2)), 39))
	require.Equal(t, "15", str(t, send(t, c, auth(panNoRoute, 100, 3)), 39))
	assert.Equal(t, int64(2), sw.Stats().JournalErrors)
	assert.Equal(t, 2.0, counterValue(t, sw, metrics.NameJournalErrors))
}

func counterValue(t *testing.T, sw *running, name string) float64 {
	t.Helper()
	fams, err := sw.Metrics().Registry().Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
