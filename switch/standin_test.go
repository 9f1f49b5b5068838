package switchd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	switchd "github.com/cardswitch/cardswitch/switch"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// standInYAML is one issuer "bank" (BIN 4) at addr with the journal at
// path, offline_after and the stand_in block given (indented as under an
// issuer; "" for none).
func standInYAML(path, addr, timeout string, offlineAfter int, standIn string) string {
	return "issuers:\n" + issuerYAML("bank", timeout, addr) + fmt.Sprintf(`    echo_interval: 0s
    offline_after: %d
%s
routes:
  - bin: "4"
    issuer: bank
journal:
  path: %q
reversals:
  retry_min: 50ms
  retry_max: 500ms
`, offlineAfter, standIn, path)
}

// After offline_after consecutive timeouts the issuer is offline: the
// next request is answered without being sent (the issuer, which holds
// every request, has still seen only the ones that timed out), and the
// issuer shows offline in /admin/routes. The 0810 of a new sign-on
// brings it back, and it answers again.
func TestOfflineAfterTimeoutsDecidedAtOnce(t *testing.T) {
	iss := startSIIssuer(t, true, 0)
	log, events := newEventLog()
	sw := startSwitchLog(t, standInYAML(journalPath(t), iss.addr(), "100ms", 2, ""), log, "bank")
	c := dial(t, sw.addr)
	for i := 1; i <= 2; i++ {
		assert.Equal(t, "91", str(t, send(t, c, auth("4111111111111111", 100, i)), 39))
	}
	events.await(t, "issuer offline", 1)
	assert.True(t, sw.Routes().Issuers[0].Offline)

	resp := send(t, c, auth("4111111111111111", 100, 3))
	assert.Equal(t, "91", str(t, resp, 39))
	auths, _, _ := iss.counts()
	assert.Equal(t, 2, auths, "decided at once: the third request never reached the issuer")

	iss.set(false, 0)
	iss.dropLinks() // the switch signs on again: the 0810 brings the issuer back
	events.await(t, "issuer back online", 1)
	require.NoError(t, waitUp(sw, "bank"))
	assert.False(t, sw.Routes().Issuers[0].Offline)
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 4)), 39))
}

// waitUp waits until issuer name has a live link.
func waitUp(sw *running, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), lostDeadline)
	defer cancel()
	return sw.WaitIssuer(ctx, name, atLeast(1))
}

const standInLimits = `    stand_in:
      enabled: true
      max_amount: 10000
      max_count: 2
      max_total: 15000
      block_processing: ["01"]
      block_mcc: ["7995"]
      advice_rate: 1000`

// siAuth is an authorization of amount for pan, with extra fields.
func siAuth(pan string, amount int64, stan int, fields map[int]string) acqclient.Request {
	r := auth(pan, amount, stan)
	r.Fields = fields
	return r
}

// An issuer with no live link and stand_in enabled: the switch approves
// within the limits with its own field 38 (S and five base-36 digits,
// never twice), declines 61 over the amount or the card's total, 65 at
// the card's count, 57 for a blocked processing code or MCC; the counts
// are per card and survive a restart.
func TestStandInDecisionsWithinLimits(t *testing.T) {
	path := journalPath(t)
	yaml := standInYAML(path, deadAddr(t), "200ms", 0, standInLimits)
	sw := startSwitch(t, yaml)
	c := dial(t, sw.addr)
	const cardA, cardB, cardC = "4111111111111111", "4000001234567899", "4000056655665556"
	approvals := map[string]bool{}
	check := func(r acqclient.Request, want string) {
		t.Helper()
		resp := send(t, c, r)
		require.Equal(t, want, str(t, resp, 39), "STAN %d", r.STAN)
		if want != "00" {
			assert.Empty(t, wire(t, resp, 38), "no 38 on a decline")
			return
		}
		code := str(t, resp, 38)
		assert.Regexp(t, `^S[0-9A-Z]{5}$`, code)
		assert.False(t, approvals[code], "approval code %s given twice", code)
		approvals[code] = true
	}
	check(siAuth(cardA, 5000, 1, nil), "00")
	check(siAuth(cardA, 20000, 2, nil), "61") // over max_amount
	check(siAuth(cardA, 9000, 3, nil), "00")  // total 14,000
	check(siAuth(cardA, 100, 4, nil), "65")   // count 2 reached
	check(siAuth(cardB, 100, 5, map[int]string{3: "010000"}), "57")
	check(siAuth(cardB, 100, 6, map[int]string{18: "7995"}), "57")
	check(siAuth(cardB, 100, 7, nil), "00") // counts are per card
	check(siAuth(cardC, 10000, 8, nil), "00")
	check(siAuth(cardC, 6000, 9, nil), "61") // total 16,000 over max_total

	sw.stop()
	sw = startSwitch(t, yaml)
	c = dial(t, sw.addr)
	check(siAuth(cardA, 100, 10, nil), "65")  // the count survived the restart
	check(siAuth(cardC, 5000, 11, nil), "00") // total 15,000
	sw.stop()

	es := entriesByRRN(t, path)
	for stan := 1; stan <= 11; stan++ {
		e := es[fmt.Sprintf("%012d", stan)]
		require.NotEmpty(t, e, "STAN %d journaled", stan)
		assert.Equal(t, journal.StandIn, e[len(e)-1].Outcome, "STAN %d", stan)
		assert.Contains(t, e[len(e)-1].Reason, "issuer has no live link")
	}
}

// fieldsOf scans a frame and returns the fields asked for, by number (0:
// the MTI).
func fieldsOf(t *testing.T, frame []byte, ids ...int) map[int]string {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(frame, &v))
	out := map[int]string{0: string(v.MTI())}
	for _, id := range ids {
		out[id] = string(v.Field(id))
	}
	return out
}

// Decisions made while the issuer is unreachable reach it once it is
// back: one 0120 per decision, in the order of the decisions, each with
// the PAN, the amount, the decision (39, and 38 when approved) and the
// reason in 60; the issuer drops each first attempt, and gets a 0121
// repeat until it acknowledges; acknowledged rows are erased. While they
// are owed, no journal file holds a PAN in clear. No 0420: nothing went out.
func TestStandInAdvicesDeliveredWhenIssuerBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	path := filepath.Join(dir, "journal.db")
	addr := deadAddr(t)
	sw := startSwitch(t, standInYAML(path, addr, "200ms", 0, standInLimits))
	c := dial(t, sw.addr)
	const cardA, cardB = "4111111111111111", "4000001234567899"
	want := []struct {
		pan    string
		amount int64
		code   string
	}{{cardA, 5000, "00"}, {cardA, 20000, "61"}, {cardB, 100, "00"}}
	var approval []string
	for i, w := range want {
		resp := send(t, c, siAuth(w.pan, w.amount, i+1, nil))
		require.Equal(t, w.code, str(t, resp, 39))
		approval = append(approval, wire(t, resp, 38))
	}
	assert.Equal(t, 3, storedRows(t, path), "one advice per decision, stored before the answer")
	assertNotOnDisk(t, dir, [][]byte{[]byte(cardA), []byte(cardB)}, "advices owed")

	iss := startSIIssuerAt(t, addr, false, 2)
	advices := iss.wait(t, "every advice acknowledged", func(_ int, _ [][]byte, acked int) bool { return acked >= 3 })
	var first []map[int]string
	repeats := map[string]int{}
	for _, a := range advices {
		f := fieldsOf(t, a, 2, 4, 37, 38, 39, 60)
		if f[0] == "0120" {
			first = append(first, f)
		} else {
			assert.Equal(t, "0121", f[0])
			repeats[f[37]]++
		}
	}
	require.Len(t, first, 3, "one 0120 per decision")
	for i, w := range want {
		f := first[i]
		assert.Equal(t, fmt.Sprintf("%012d", i+1), f[37], "in the order of the decisions")
		assert.Equal(t, w.pan, f[2])
		assert.Equal(t, fmt.Sprintf("%012d", w.amount), f[4])
		assert.Equal(t, w.code, f[39])
		assert.Equal(t, approval[i], f[38], "38 as the acquirer got it")
		assert.Equal(t, "STIP01", f[60])
		assert.GreaterOrEqual(t, repeats[f[37]], 1, "the dropped first attempt was repeated as 0121")
	}
	awaitNoReversalsOwed(t, path)
	assert.Empty(t, iss.reversals(), "no 0420: no request went out")
	sw.stop()
	assert.Zero(t, storedRows(t, path))
}

// An issuer that holds every authorization: each times out and the
// switch stands in (60 = STIP03). The approval sends no 0420; the decline
// (61) sends the 0420 as well, the issuer may hold funds. The issuer's
// late answers are journaled beside the decisions (agreed or not) and
// never relayed: the acquirer's next frame is the answer to its next
// request.
func TestStandInAfterTimeoutAndLateAnswer(t *testing.T) {
	path := journalPath(t)
	iss := startSIIssuer(t, true, 1)
	log, events := newEventLog()
	sw := startSwitchLog(t, standInYAML(path, iss.addr(), "100ms", 0, standInLimits), log, "bank")
	raw := dialRaw(t, sw.addr)
	raw.write(t, pack(t, siAuth("4111111111111111", 5000, 1, nil)))
	resp := raw.read(t)
	require.Equal(t, "00", str(t, resp, 39))
	raw.write(t, pack(t, siAuth("4111111111111111", 20000, 2, nil)))
	require.Equal(t, "61", str(t, raw.read(t), 39))

	advices := iss.wait(t, "both advices", func(_ int, a [][]byte, acked int) bool { return acked >= 2 })
	for i, a := range advices[:2] {
		f := fieldsOf(t, a, 37, 39, 60)
		assert.Equal(t, fmt.Sprintf("%012d", i+1), f[37])
		assert.Equal(t, "STIP03", f[60], "stood in after a timeout")
	}
	awaitNoReversalsOwed(t, path)
	// One reversal, of the decline only: its first attempt an 0420; on a
	// loaded machine its 0430 may come after the 100 ms repeat time, and
	// then repeats (0421) of the same reversal follow.
	revs := iss.reversals()
	require.NotEmpty(t, revs, "an 0420 for the decline")
	assert.Equal(t, "0420", string(revs[0][:4]))
	for i, rv := range revs {
		assert.Equal(t, fmt.Sprintf("%012d", 2), fieldsOf(t, rv, 37)[37], "reversal %d is the decline's", i)
		if i > 0 {
			assert.Equal(t, "0421", string(rv[:4]), "a later attempt is a repeat")
		}
	}

	iss.answerHeld(t, "05") // declines both, late
	events.await(t, "issuer answered a request the switch stood in for", 2)
	raw.write(t, pack(t, auth("4000001234567899", 100, 3)))
	next := raw.read(t)
	assert.Equal(t, "000003", wire(t, next, 11), "the late answers were not relayed")
	sw.stop()

	es := entriesByRRN(t, path)
	late := func(rrn string) journal.Entry {
		for _, e := range es[rrn] {
			if e.Outcome == journal.Late {
				return e
			}
		}
		t.Fatalf("no late entry for %s", rrn)
		return journal.Entry{}
	}
	assert.Equal(t, "05", late("000000000001").ResponseCode)
	assert.Contains(t, late("000000000001").Reason, "stand-in 00 disagreed")
	assert.Contains(t, late("000000000002").Reason, "stand-in 61 agreed")
}

// An advice its issuer does not take within advice_ttl moves to the
// exception list: kept, counted, no longer owed.
func TestStandInAdvicePastTTLGoesToExceptionList(t *testing.T) {
	path := journalPath(t)
	log, events := newEventLog()
	sw := startSwitchLog(t, standInYAML(path, deadAddr(t), "200ms", 0, standInLimits+"\n      advice_ttl: 300ms"), log)
	c := dial(t, sw.addr)
	require.Equal(t, "00", str(t, send(t, c, siAuth("4111111111111111", 100, 1, nil)), 39))
	events.await(t, "stand-in advices past advice_ttl moved to the exception list", 1)
	j := openJournal(t, path)
	q, err := j.AdviceQueueState()
	require.NoError(t, err)
	assert.Equal(t, journal.AdviceQueue{Exceptions: 1}, q)
	ex, err := j.AdviceExceptions()
	require.NoError(t, err)
	require.Len(t, ex, 1)
	assert.Equal(t, "000000000001", ex[0].RRN)
	assert.Equal(t, 1, storedRows(t, path), "kept, never silently dropped")
}

// Advices go to a recovering issuer at no more than stand_in.advice_rate
// per second: with the rate limiter's clock frozen, exactly the burst
// goes out however many passes the manager makes; each second the clock
// moves lets exactly the rate more go.
func TestStandInAdvicesPaced(t *testing.T) {
	addr := deadAddr(t)
	clock := newFakeClock()
	passes := make(chan struct{}, 1)
	limits := strings.Replace(standInLimits, "advice_rate: 1000", "advice_rate: 2", 1)
	limits = strings.Replace(limits, "max_count: 2", "max_count: 0", 1)
	sw := opsRun(t, opsLoad(t, standInYAML(journalPath(t), addr, "1s", 0, limits)), switchd.WithReversalClock(clock.now),
		switchd.WithReversalPass(func() {
			select {
			case passes <- struct{}{}:
			default:
			}
		}))
	c := dial(t, sw.addr)
	const decisions = 6
	for i := range decisions {
		require.Equal(t, "00", str(t, send(t, c, siAuth("4111111111111111", 10, i+1, nil)), 39))
	}
	iss := startSIIssuerAt(t, addr, false, 1)
	opsWaitUp(t, sw, "bank")
	awaitPasses := func() {
		for range 3 { // a pass under way at the last send may not count: two more are whole
			select {
			case <-passes:
			case <-time.After(lostDeadline):
				t.Fatal("the manager made no pass")
			}
		}
	}
	for step, want := range []int{2, 4, 6} {
		iss.wait(t, "this second's advices", func(_ int, a [][]byte, _ int) bool { return len(a) >= want })
		awaitPasses()
		_, advices, _ := iss.counts()
		assert.Equal(t, want, len(advices), "step %d: no more than burst + rate × seconds", step)
		clock.advance(time.Second)
	}
}

// stand_in and offline_after are reloadable: a reload that enables
// stand-in turns the next 91 of an issuer that is down into a decision.
func TestStandInEnabledByReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "switch.yaml")
	addr := deadAddr(t)
	path := filepath.Join(dir, "journal.db")
	require.NoError(t, os.WriteFile(file, []byte(standInYAML(path, addr, "200ms", 0, "")), 0o600))
	cfg, err := config.Load(file)
	require.NoError(t, err)
	sw := opsRun(t, cfg)
	c := dial(t, sw.addr)
	require.Equal(t, "91", str(t, send(t, c, siAuth("4111111111111111", 100, 1, nil)), 39))

	require.NoError(t, os.WriteFile(file, []byte(standInYAML(path, addr, "200ms", 0, standInLimits)), 0o600))
	_, err = sw.Reload(context.Background())
	require.NoError(t, err)
	require.Equal(t, "00", str(t, send(t, c, siAuth("4111111111111111", 100, 2, nil)), 39))
}
