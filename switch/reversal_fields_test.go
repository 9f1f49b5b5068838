package switchd_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reversal's contents and repeats: what an issuer needs to find the
// card account and release the hold (the PAN in 2, the original in 90),
// retries marked as repeats (0421), and an 0430 taken as the ack only when
// it answers that reversal.

// trackSilentPAN is a PAN the simulator never answers (lostSim), sent in
// track 2 only.
const trackSilentPAN = "4000056655660009"

// waitReversals waits until the simulator has received n reversal
// attempts, and returns them all.
func waitReversals(t *testing.T, sim *issuersim.Sim, log *simLog, n int) []issuersim.ReversalSeen {
	t.Helper()
	log.wait(t, "reversal attempts", func([]issuersim.Request) bool { return len(sim.Reversals()) >= n })
	return sim.Reversals()
}

// A timed-out authorization is reversed with the PAN in field 2: from its
// field 2, or from its track 2 when it had no field 2 (and then without
// the track). Field 90 is as before: the original MTI and the STAN the
// issuer saw.
func TestTimeoutReversalCarriesPAN(t *testing.T) {
	sim, log := startWatchedSim(t, lostSim(0))
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "200ms", ""), "bank")
	c := dial(t, sw.addr)
	require.Equal(t, "91", str(t, send(t, c, auth(panSilent, 100, 1)), 39))
	withTrack := auth("", 100, 2)
	withTrack.Track2 = trackSilentPAN + "=25121010000012345678"
	require.Equal(t, "91", str(t, send(t, c, withTrack), 39))

	byRRN := map[string]issuersim.ReversalSeen{}
	for _, r := range waitReversals(t, sim, log, 2) {
		byRRN[r.Fields[37]] = r
	}
	for rrn, pan := range map[string]string{fmt.Sprintf("%012d", 1): panSilent, fmt.Sprintf("%012d", 2): trackSilentPAN} {
		r, ok := byRRN[rrn]
		require.True(t, ok, "no reversal for rrn %s", rrn)
		assert.Equal(t, "0420", r.MTI)
		assert.Equal(t, pan, r.Fields[2], "rrn %s: the PAN, in field 2", rrn)
		for _, id := range iso.SensitiveFields {
			assert.NotContains(t, r.Fields, id, "rrn %s: field %d in a reversal", rrn, id)
		}
		require.Len(t, r.Fields[90], 42, "field 90")
		assert.Equal(t, "0100", r.Fields[90][:4])
		assert.Equal(t, "68", r.Fields[39])
		assert.Equal(t, "000000000100", r.Fields[4])
	}
	awaitNoReversalsOwed(t, path)
}

// panWindows are the 12-digit windows of pan: none may be on disk.
func panWindows(pan string) [][]byte {
	var out [][]byte
	for i := 0; i+12 <= len(pan); i++ {
		out = append(out, []byte(pan[i:i+12]))
	}
	return out
}

// The PAN a reversal carries is stored only sealed: while the reversal is
// owed no file under the journal's folder (database, WAL, log segments)
// holds any 12 of its digits in a row; the journal's entries hold it
// masked; once the issuer acknowledges, the row is gone.
func TestReversalPANStoredSealedAndErasedOnAck(t *testing.T) {
	iss := startHoldIssuer(t)
	dir := filepath.Join(t.TempDir(), "journal")
	path := filepath.Join(dir, "journal.db")
	sw := startSwitch(t, lostYAML(path, iss.ln.Addr().String(), "200ms", ""), "bank")
	require.Equal(t, "91", str(t, send(t, dial(t, sw.addr), auth(panApprove, 100, 7)), 39))
	advices := iss.waitAdvices(t, "the reversal", func(a [][]byte, _ int) bool { return len(a) >= 1 })
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(advices[0], &v))
	require.Equal(t, panApprove, string(v.Field(2)), "the reversal carries the PAN")
	require.NoError(t, sw.FlushJournal(context.Background()))
	assert.Equal(t, 1, storedRows(t, path), "owed")
	assertNotOnDisk(t, dir, panWindows(panApprove), "while owed")

	iss.release()
	iss.waitAdvices(t, "an acknowledged retry", func(_ [][]byte, acked int) bool { return acked >= 1 })
	awaitNoReversalsOwed(t, path)
	sw.stop()
	assert.Zero(t, storedRows(t, path), "acknowledged: the row is erased")
	assertNotOnDisk(t, dir, panWindows(panApprove), "after the ack")
	es, err := openJournal(t, path).List(context.Background(), journal.Filter{RRN: fmt.Sprintf("%012d", 7)})
	require.NoError(t, err)
	require.NotEmpty(t, es)
	for _, e := range es {
		assert.Equal(t, "411111******1111", e.PAN, "entry %d (%s)", e.ID, e.Outcome)
	}
}

// Every retry of a reversal is a repeat: with the first two attempts left
// unanswered, the issuer sees 0420, 0421, 0421, and acknowledges once.
func TestReversalRetriesAreRepeats(t *testing.T) {
	const drop = 2
	sim, log := startWatchedSim(t, lostSim(drop))
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "1s", ""), "bank")
	require.Equal(t, "91", str(t, send(t, dial(t, sw.addr), auth(panSilent, 100, 1)), 39))
	log.wait(t, "the reversal answered", answeredAtLeast(1, drop))
	awaitNoReversalsOwed(t, path)
	sw.stop() // nothing more can be sent: what the issuer saw is final

	var mtis []string
	for _, r := range sim.Reversals() {
		mtis = append(mtis, r.MTI)
		assert.Equal(t, panSilent, r.Fields[2], "every attempt carries the PAN")
	}
	assert.Equal(t, []string{"0420", "0421", "0421"}, mtis)
	assert.EqualValues(t, 1, sim.Stats().ReversalsAcked)
}

// An 0430 under the reversal's link STAN with another field 90 answers
// another reversal: it is no ack. It is counted as unmatched and
// journaled, the reversal stays owed and is retried (0421), and the 0430
// that echoes its own 90 acknowledges it.
func TestWrongOriginalIsNotAnAck(t *testing.T) {
	iss := startHoldIssuer(t)
	iss.mu.Lock()
	iss.wrong90 = true
	iss.mu.Unlock()
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, iss.ln.Addr().String(), "200ms", ""), "bank")
	require.Equal(t, "91", str(t, send(t, dial(t, sw.addr), auth(panApprove, 100, 9)), 39))
	advices := iss.waitAdvices(t, "a retry after the wrong 0430", func(a [][]byte, _ int) bool { return len(a) >= 2 })
	assert.Equal(t, "0421", frameMTI(t, advices[1]))
	assert.Equal(t, 1, storedRows(t, path), "still owed")
	assert.Positive(t, sw.Stats().UnmatchedAnswers)

	iss.release()
	iss.waitAdvices(t, "an acknowledged retry", func(_ [][]byte, acked int) bool { return acked >= 1 })
	awaitNoReversalsOwed(t, path)
	require.NoError(t, sw.FlushJournal(context.Background()))
	es, err := openJournal(t, path).List(context.Background(), journal.Filter{Outcome: journal.Unmatched})
	require.NoError(t, err)
	require.NotEmpty(t, es, "the wrong 0430 is journaled as unmatched")
	assert.Equal(t, "0430", es[0].MTI)
	assert.Contains(t, es[0].Reason, "field 90")
}

// frameMTI is the MTI of a frame as the issuer received it.
func frameMTI(t *testing.T, frame []byte) string {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(frame, &v))
	return string(v.MTI())
}

// An acquirer's advice with its PAN in track 2 only, stored while the
// issuer is down, is delivered with that PAN in field 2 and without the
// track; never sent before, its first attempt is an 0420.
func TestStoredAdviceTakesItsPANFromTrack2(t *testing.T) {
	addr := deadAddr(t)
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, addr, "1s", ""))
	adv := auth("", 100, 78)
	adv.MTI, adv.Track2 = "0420", trackSilentPAN+"=25121010000012345678"
	resp := send(t, dial(t, sw.addr), adv)
	require.Equal(t, "0430", mti(t, resp))

	sim, log := startWatchedSim(t, config.Simulator{Name: "bank", Listen: addr})
	rs := waitReversals(t, sim, log, 1)
	assert.Equal(t, "0420", rs[0].MTI)
	assert.Equal(t, trackSilentPAN, rs[0].Fields[2])
	assert.NotContains(t, rs[0].Fields, 35, "track 2 is never stored")
	awaitNoReversalsOwed(t, path)
}

// An acquirer's 0420, relayed, is answered only by the 0430 that echoes
// its own field 90 (or no 90): an 0430 under its link STAN with another
// 90 answers another reversal. It is unmatched, not relayed to the
// acquirer; the advice times out, is stored and repeated (0421) until the
// issuer acknowledges it, and the acquirer gets the switch's 0430.
func TestRelayedAdviceWrongOriginalIsNotAnAck(t *testing.T) {
	iss := startHoldIssuer(t)
	iss.mu.Lock()
	iss.wrong90, iss.approve = true, true
	iss.mu.Unlock()
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, iss.ln.Addr().String(), "200ms", ""), "bank")
	c := dial(t, sw.addr)
	original := auth(panApprove, 100, 12)
	original.Time = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	require.Equal(t, "00", str(t, send(t, c, original), 39), "the original, relayed")
	adv := auth(panApprove, 100, 13)
	adv.RRN = original.RRN
	orig := "0100000012" + "1207120000" + fmt.Sprintf("%011d%011d", 0, 0)
	adv.MTI, adv.Fields = "0420", map[int]string{90: orig}
	resp := send(t, c, adv)
	require.Equal(t, "0430", mti(t, resp))
	got90, _ := resp.GetString(90)
	assert.NotEqual(t, "0100999999"+strings.Repeat("0", 32), got90, "the issuer's 0430 for another reversal relayed")
	advices := iss.waitAdvices(t, "the advice repeated", func(a [][]byte, _ int) bool { return len(a) >= 2 })
	assert.Equal(t, "0421", frameMTI(t, advices[1]))
	assert.Positive(t, sw.Stats().UnmatchedAnswers)

	iss.release()
	iss.waitAdvices(t, "an acknowledged repeat", func(_ [][]byte, acked int) bool { return acked >= 1 })
	awaitNoReversalsOwed(t, path)
}
