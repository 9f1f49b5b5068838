package journal

import (
	"context"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// claimSent is an in-flight record claiming the duplicate key of the
// request with stan, first seen at.
func claimSent(stan string, at time.Time) *Sent {
	s := &Sent{Time: at, Issuer: "bank-a", LinkSTAN: 1, MTI: []byte("0100")}
	s.Claim = AppendClaimKey(nil, "acq", []byte("010"), []byte(stan), []byte("TERM0001"), []byte("000000000001"),
		[]byte("1207101010"))
	return s
}

// claimOf stages s on p, commits it and returns ClaimResult.
func claimOf(t *testing.T, p *PG, s *Sent) (uint32, error) {
	t.Helper()
	tk, seq, err := p.StageSent(s)
	require.NoError(t, err)
	p.Commit(tk)
	return seq, p.ClaimResult(seq)
}

// TestPGClaimsDecideAcrossNodes: a key claimed by one node is a duplicate
// for another within the window (its in-flight record not written), the
// same key twice in one write wins once, a claim released (StageDone: the
// request did not go out) lets another node claim the key, and a claim
// older than the window is taken over.
func TestPGClaimsDecideAcrossNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	a, b := openPGTemp(t, dsn, "sw-a"), openPGTemp(t, dsn, "sw-b")
	now := time.Now()

	_, err := claimOf(t, a, claimSent("000001", now))
	require.NoError(t, err, "the first claim is taken")
	_, err = claimOf(t, b, claimSent("000001", now))
	require.ErrorIs(t, err, ErrClaimed, "the same request on another node is a duplicate")
	var inflight int
	require.NoError(t, a.pool.QueryRow(ctx, `SELECT count(*) FROM inflight`).Scan(&inflight))
	assert.Equal(t, 1, inflight, "a duplicate's in-flight record is not written: it never goes out")
	link, found, err := b.ClaimedLink(ctx, claimSent("000001", now).Claim, now.Add(-time.Minute))
	require.NoError(t, err)
	assert.True(t, found, "another node's claim is found, for a reversal of its request")
	assert.EqualValues(t, 1, link, "with the link STAN the issuer saw")
	_, found, err = b.ClaimedLink(ctx, claimSent("000099", now).Claim, now.Add(-time.Minute))
	require.NoError(t, err)
	assert.False(t, found)

	// Twice in one write: one INSERT cannot touch a row twice; the second loses.
	_, s1, err := b.StageSent(claimSent("000002", now))
	require.NoError(t, err)
	tk, s2, err := b.StageSent(claimSent("000002", now))
	require.NoError(t, err)
	b.Commit(tk)
	assert.NoError(t, b.ClaimResult(s1))
	assert.ErrorIs(t, b.ClaimResult(s2), ErrClaimed)

	// Released: the request did not go out; its retry on the other node goes.
	seq, err := claimOf(t, a, claimSent("000003", now))
	require.NoError(t, err)
	a.StageDone(seq)
	require.NoError(t, a.Flush(ctx))
	_, err = claimOf(t, b, claimSent("000003", now))
	assert.NoError(t, err, "a released claim does not make its retry a duplicate")

	// Older than the window: taken over, and pruned.
	_, err = claimOf(t, a, claimSent("000004", now.Add(-time.Hour)))
	require.NoError(t, err)
	_, err = claimOf(t, b, claimSent("000004", now))
	assert.NoError(t, err, "a claim older than journal.duplicate_window does not hold")
	_, err = claimOf(t, a, claimSent("000005", now.Add(-time.Hour)))
	require.NoError(t, err)
	n, err := a.pruneClaims(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "the expired claim is pruned, the others stay")
}

// TestPGClaimUnknownWhenTheWriteFails: when the write carrying a claim
// fails, whether another node has the request is unknown: ErrClaimUnknown
// (the switch answers 91 rather than risk a double authorization).
func TestPGClaimUnknownWhenTheWriteFails(t *testing.T) {
	dsn := pgtest.DSN(t)
	p := openPGTemp(t, dsn, "sw-a")
	_, err := p.pool.Exec(context.Background(), `DROP TABLE dupclaims`)
	require.NoError(t, err)
	_, err = claimOf(t, p, claimSent("000001", time.Now()))
	assert.ErrorIs(t, err, ErrClaimUnknown)
	assert.NoError(t, p.ClaimResult(12345), "a seq without a claim may go")
}

// TestPGGroupWriteIsAllOrNothing: a group write is one batch of
// statements in one transaction; when one fails (here the entries', on a
// constraint the test adds), nothing of the write is in the database: not
// its duplicate claim, nor its in-flight record, nor the entry; the claim
// is unknown, the entry's waiter told of the failure; and the node's next
// write succeeds (its connection is not left in the failed transaction).
func TestPGGroupWriteIsAllOrNothing(t *testing.T) {
	dsn := pgtest.DSN(t)
	p := openPGTemp(t, dsn, "sw-a")
	ctx := context.Background()
	_, err := p.pool.Exec(ctx, `ALTER TABLE entries ADD CONSTRAINT refused CHECK (rrn <> 'refused')`)
	require.NoError(t, err)
	p.pool.Reset() // no connection keeps a plan made before the constraint

	// Both in one write: no write starts while they are staged.
	p.mu.Lock()
	p.writing = true
	p.mu.Unlock()
	_, seq, err := p.StageSent(claimSent("000001", time.Now()))
	require.NoError(t, err)
	w := &recorder{}
	p.Append(&Entry{Time: time.Now(), Issuer: "bank", MTI: "0100", RRN: "refused", Outcome: Approved}, w)
	p.mu.Lock()
	p.writing = false
	p.cond.Broadcast()
	p.mu.Unlock()
	require.NoError(t, p.Flush(ctx))
	assert.ErrorIs(t, p.ClaimResult(seq), ErrClaimUnknown)
	calls := w.snapshot()
	require.Len(t, calls, 1)
	assert.Error(t, calls[0].err, "the entry's waiter is told its write failed")
	for _, table := range []string{"dupclaims", "inflight", "entries"} {
		var n int
		require.NoError(t, p.pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
		assert.Zero(t, n, "%s: a row of the failed write is in the database", table)
	}

	seq2, err := claimOf(t, p, claimSent("000001", time.Now()))
	require.NoError(t, err, "the next write takes the claim the failed one did not")
	var n int
	require.NoError(t, p.pool.QueryRow(ctx, `SELECT count(*) FROM inflight WHERE seq = $1`, int64(seq2)).Scan(&n))
	assert.Equal(t, 1, n)
}

// A claim's result that nobody asks for (its frame's link closed before
// the frame was vetted) is forgotten after claimResultTTL, so the map
// holding the results stays bounded; a recent one is kept for its vet.
func TestPGUnaskedClaimResultsForgotten(t *testing.T) {
	now := time.Now()
	p := &PG{claimErrs: map[uint32]claimErr{
		1: {ErrClaimed, now.Add(-2 * claimResultTTL).UnixNano()},
		2: {ErrClaimUnknown, now.UnixNano()},
	}}
	p.forgetClaimResults(now.Add(-claimResultTTL))
	assert.Len(t, p.claimErrs, 1)
	assert.NoError(t, p.ClaimResult(1), "forgotten: no result left")
	assert.ErrorIs(t, p.ClaimResult(2), ErrClaimUnknown)
	assert.Empty(t, p.claimErrs, "a result is given once")
}
