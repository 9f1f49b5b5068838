package journal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spoolWaiter records what each Append's waiter was told.
type spoolWaiter struct {
	mu   sync.Mutex
	errs []error
}

func (w *spoolWaiter) Journaled(_ *Entry, err error) {
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

// appendEntries appends entries with STANs from..to, each committed
// (waited for), and returns what the waiters were told.
func appendEntries(p *PG, from, to int) []error {
	w := &spoolWaiter{}
	for i := from; i <= to; i++ {
		p.Append(&Entry{Time: time.Now(), Issuer: "bank", MTI: "0100", STAN: fmt.Sprintf("%06d", i),
			PAN: "411111******1111", ResponseCode: "00", Outcome: Approved}, w)
	}
	p.mu.Lock()
	t := p.gen
	p.mu.Unlock()
	p.Commit(t)
	return w.errs
}

// stansIn counts the entries of each STAN in the database.
func stansIn(t *testing.T, dsn string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, b := range rawBytes(t, dsn, `SELECT stan::bytea FROM entries`) {
		out[string(b)]++
	}
	return out
}

// TestPGSpoolWhileDatabaseDownReplayedAtStart: with the database stopped,
// writes go to the spool and their waiters are told they are written (the
// answers go out), and so does a reversal stored (a timeout's, before its
// 91); the spool holds no card number. The node stops while the database
// is down; at its next start the spool is replayed: every entry is in the
// database once, the reversal is owed, the in-flight record it left open
// is reversed, the one it closed is not, and the spool is gone.
func TestPGSpoolWhileDatabaseDownReplayedAtStart(t *testing.T) {
	srv := pgtest.StartServer(t)
	ctx := context.Background()
	spool := filepath.Join(t.TempDir(), "sw-1.spool")
	opt := PGOptions{Node: "sw-1", Keys: testKeys, Reverse: pgReverse, Spool: spool, Lease: time.Hour}
	p, err := OpenPG(ctx, srv.DSN(), opt)
	require.NoError(t, err)
	for _, err := range appendEntries(p, 1, 3) {
		require.NoError(t, err)
	}

	srv.Stop()
	closed := sentSample("000011", 11)
	closed.PAN = []byte("4111111111111111")
	_, seq, err := p.StageSent(closed)
	require.NoError(t, err)
	open := sentSample("000012", 12)
	open.PAN = []byte("4111111111111111")
	_, _, err = p.StageSent(open)
	require.NoError(t, err)
	p.StageDone(seq)
	for _, err := range appendEntries(p, 4, 6) {
		require.NoError(t, err, "an entry written while the database is down: spooled")
	}
	require.NoError(t, p.AddReversals(ctx, []*Reversal{{Issuer: "bank", STAN: "000013", RRN: "RRN000013000",
		Frame: []byte("0420 4111111111111111 timeout")}}), "a reversal stored while the database is down: spooled")
	data, err := os.ReadFile(spool)
	require.NoError(t, err, "the spool")
	assert.False(t, bytes.Contains(data, []byte("411111111111")), "a card number in the spool")
	require.NoError(t, p.Close())
	_, err = os.Stat(spool)
	require.NoError(t, err, "the spool outlives the node while the database is down")

	srv.Start()
	p2, err := OpenPG(ctx, srv.DSN(), opt)
	require.NoError(t, err)
	defer p2.Close()
	got := stansIn(t, srv.DSN())
	for i := 1; i <= 6; i++ {
		assert.Equal(t, 1, got[fmt.Sprintf("%06d", i)], "entry %d in the database", i)
	}
	rs, err := p2.PendingReversals()
	require.NoError(t, err)
	require.Len(t, rs, 2, "the reversal spooled, and the request left in flight while the database was down")
	assert.Equal(t, "000013", rs[0].STAN)
	assert.Equal(t, "0420 4111111111111111 timeout", string(rs[0].Frame))
	assert.Equal(t, "000012", rs[1].STAN)
	_, err = os.Stat(spool)
	assert.ErrorIs(t, err, os.ErrNotExist, "the spool is removed once replayed")
}

// TestPGSpoolReplayedWhenDatabaseBack: a running node replays its spool
// once the database answers again, and writes go to the database again.
func TestPGSpoolReplayedWhenDatabaseBack(t *testing.T) {
	srv, p, spool := spoolingNode(t, 5)
	srv.Start()
	awaitReplayed(t, spool)
	for _, err := range appendEntries(p, 6, 7) {
		require.NoError(t, err)
	}
	require.NoFileExists(t, spool, "the database is back: written there")
	got := stansIn(t, srv.DSN())
	for i := 1; i <= 7; i++ {
		assert.Equal(t, 1, got[fmt.Sprintf("%06d", i)], "entry %d", i)
	}
}

// TestPGSpoolReplaySkipsWhatCommitted: a write whose COMMIT reached the
// database though its answer did not is spooled all the same; replaying
// it adds nothing twice (its entries keep the ids given before the write).
func TestPGSpoolReplaySkipsWhatCommitted(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	spool := filepath.Join(t.TempDir(), "sw-1.spool")
	opt := PGOptions{Node: "sw-1", Keys: testKeys, Spool: spool}
	p, err := OpenPG(ctx, dsn, opt)
	require.NoError(t, err)
	e := &Entry{Time: time.Now(), Issuer: "bank", MTI: "0100", STAN: "000001", ResponseCode: "00", Outcome: Approved}
	w := &spoolWaiter{}
	p.Append(e, w)
	require.NoError(t, p.Flush(ctx))
	require.NotZero(t, e.ID)
	row := rowOfEntry("sw-1", e)
	var b pgBatch
	b.ents.add(&row)
	b.ents.ids[0] = e.ID
	committed, err := p.spoolLine(&b)
	require.NoError(t, err)
	e2 := &Entry{Time: time.Now(), Issuer: "bank", MTI: "0100", STAN: "000002", ResponseCode: "00", Outcome: Approved}
	row2 := rowOfEntry("sw-1", e2)
	var b2 pgBatch
	b2.ents.add(&row2)
	notYet, err := p.spoolLine(&b2) // no id: never reached the database
	require.NoError(t, err)
	require.NoError(t, p.Close())
	require.NoError(t, os.WriteFile(spool, append(committed, notYet...), 0o600))

	p2, err := OpenPG(ctx, dsn, opt)
	require.NoError(t, err)
	defer p2.Close()
	assert.Equal(t, map[string]int{"000001": 1, "000002": 1}, stansIn(t, dsn))
}

// TestPGSpoolReplayHoldsNoClaimBack: the write that finds the database
// back replays the spool, which can take long (a big spool, a loaded
// machine). The requests of that write were spooled: their claims are
// undecided (ErrClaimUnknown) whatever the replay does, and they are told
// so before it, not after. Told after, a request waited at the link's
// gate past its issuer timeout: the switch answered 91, stored a timeout
// reversal, and then did not send it (its claim undecided), reversing a
// request the issuer never saw. The test holds the replay on the spool's
// lock (a write of only a claim spools nothing and needs no lock).
func TestPGSpoolReplayHoldsNoClaimBack(t *testing.T) {
	srv, p, spool := spoolingNode(t, 2)
	p.mu.Lock()
	p.writing = true // no write starts until the claim is staged and the replay held
	p.mu.Unlock()
	s := sentSample("000003", 3)
	s.Claim = AppendClaimKey(nil, "acq", []byte("010"), []byte("000003"), nil, nil, nil)
	_, seq, err := p.StageSent(s)
	require.NoError(t, err)
	srv.Start()
	require.Eventually(t, p.sp.back.Load, 30*time.Second, 10*time.Millisecond, "the probe did not find the database")
	p.sp.mu.Lock() // the replay waits here
	p.mu.Lock()
	p.writing = false
	p.cond.Broadcast()
	p.mu.Unlock()
	p.nudge()

	told := assert.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		_, told := p.claimErrs[seq]
		return told
	}, 30*time.Second, 10*time.Millisecond, "the claim's result waits for the replay")
	p.sp.mu.Unlock()
	require.True(t, told)
	assert.ErrorIs(t, p.ClaimResult(seq), ErrClaimUnknown)
	awaitReplayed(t, spool)
	assert.Equal(t, map[string]int{"000001": 1, "000002": 1}, stansIn(t, srv.DSN()))
}

// spoolingNode is a node on a PostgreSQL of the test's own, which is then
// stopped: entries 1..n went to the node's spool. The node is closed when
// the test ends.
func spoolingNode(t *testing.T, n int) (*pgtest.Server, *PG, string) {
	t.Helper()
	srv := pgtest.StartServer(t)
	spool := filepath.Join(t.TempDir(), "sw-1.spool")
	p, err := OpenPG(context.Background(), srv.DSN(), PGOptions{Node: "sw-1", Keys: testKeys, Spool: spool})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	srv.Stop()
	for _, err := range appendEntries(p, 1, n) {
		require.NoError(t, err)
	}
	require.FileExists(t, spool)
	return srv, p, spool
}

// awaitReplayed waits until the spool is replayed (removed).
func awaitReplayed(t *testing.T, spool string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := os.Stat(spool)
		return os.IsNotExist(err)
	}, 30*time.Second, 10*time.Millisecond, "spool not replayed")
}
