package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Stand-in on PostgreSQL: the counters, the approval numbers and the
// advices are shared by every node on the database.

// openPGNodes opens nodes on one database, each beating for a lease
// already (so that it may take over a dead node's rows).
func openPGNodes(t *testing.T, dsn string, nodes ...string) []*PG {
	t.Helper()
	out := make([]*PG, len(nodes))
	for i, n := range nodes {
		p, err := OpenPG(context.Background(), dsn, PGOptions{Node: n, Keys: testKeys, Lease: time.Hour})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		beatingForALease(p)
		out[i] = p
	}
	return out
}

// decideOnce is one stand-in decision for card against max_count 3 in
// one transaction: it reports whether it approved.
func decideOnce(p *PG, card []byte, now time.Time) (bool, error) {
	approved := false
	err := p.StandIn(context.Background(), func(st *StandInTx) error {
		approved = false // the transaction may be run again
		n, _, err := st.Usage("bank", card, now.Add(-time.Hour))
		if err != nil || n >= 3 {
			return err
		}
		approved = true
		return st.Use("bank", card, now, 100)
	})
	return approved && err == nil, err
}

// TestPGStandInCardLimitAcrossNodes: many decisions for one card at once,
// on two nodes, with max_count 3: exactly three approvals, whatever the
// interleaving. Without the per-card lock each transaction reads the
// count before the others' uses commit, and more than three approve.
func TestPGStandInCardLimitAcrossNodes(t *testing.T) {
	nodes := openPGNodes(t, pgtest.DSN(t), "sw-1", "sw-2")
	card, err := nodes[0].CardHash([]byte("4111111111111111"))
	require.NoError(t, err)
	now := time.Now()
	const perNode = 12
	var approved, failed sync.Map
	var wg sync.WaitGroup
	for i, p := range nodes {
		for k := range perNode {
			wg.Go(func() {
				ok, err := decideOnce(p, card, now)
				key := fmt.Sprint(i, "/", k)
				if err != nil {
					failed.Store(key, err)
				} else if ok {
					approved.Store(key, true)
				}
			})
		}
	}
	wg.Wait()
	failed.Range(func(k, v any) bool { t.Errorf("decision %v: %v", k, v); return true })
	n := 0
	approved.Range(func(any, any) bool { n++; return true })
	assert.Equal(t, 3, n, "approvals for one card with max_count 3, on two nodes at once")
	require.NoError(t, nodes[1].StandIn(context.Background(), func(st *StandInTx) error {
		uses, total, err := st.Usage("bank", card, now.Add(-time.Hour))
		assert.Equal(t, 3, uses)
		assert.Equal(t, int64(300), total)
		return err
	}))
}

// TestPGStandInSharedCounters: every node derives the same card hash; a
// use recorded on one node counts on the other; Forget deletes the old
// uses; a transaction whose fn fails stores nothing.
func TestPGStandInSharedCounters(t *testing.T) {
	dsn := pgtest.DSN(t)
	nodes := openPGNodes(t, dsn, "sw-1", "sw-2")
	a, b := nodes[0], nodes[1]
	pan := []byte("4111111111111111")
	ca, err := a.CardHash(pan)
	require.NoError(t, err)
	cb, err := b.CardHash(pan)
	require.NoError(t, err)
	assert.Equal(t, ca, cb, "one card, one key, on every node")
	assert.False(t, bytes.Contains(ca, pan))
	sq, _ := openTemp(t, Options{})
	cs, err := sq.CardHash(pan)
	require.NoError(t, err)
	assert.Equal(t, cs, ca, "the same derivation as the SQLite journal")

	ctx, now := context.Background(), time.Now()
	require.NoError(t, a.StandIn(ctx, func(st *StandInTx) error {
		if err := st.Use("bank", ca, now.Add(-2*time.Hour), 700); err != nil {
			return err
		}
		return st.Use("bank", ca, now, 250)
	}))
	boom := errors.New("boom")
	err = b.StandIn(ctx, func(st *StandInTx) error {
		require.NoError(t, st.Use("bank", ca, now, 9999))
		require.NoError(t, st.AddReversals([]*Reversal{{Issuer: "bank", STAN: "000009", Frame: []byte("0120"),
			Kind: KindStandIn}}))
		return boom
	})
	require.ErrorIs(t, err, boom)
	q, err := b.AdviceQueueState()
	require.NoError(t, err)
	assert.Zero(t, q.Owed, "the failed transaction's advice is not stored")
	require.NoError(t, b.StandIn(ctx, func(st *StandInTx) error {
		n, total, err := st.Usage("bank", cb, now.Add(-3*time.Hour))
		assert.Equal(t, 2, n, "node 1's uses count on node 2; the failed one does not")
		assert.Equal(t, int64(950), total)
		n, _, _ = st.Usage("other", cb, time.Time{})
		assert.Zero(t, n, "per issuer")
		require.NoError(t, st.Forget("bank", now.Add(-time.Hour)))
		n, total, _ = st.Usage("bank", cb, time.Time{})
		assert.Equal(t, 1, n, "the use older than the window is forgotten")
		assert.Equal(t, int64(250), total)
		return err
	}))
}

// TestPGStandInApprovalNumbersAcrossNodes: the day's approval numbers
// taken on two nodes at once are 1..N, none twice; a new day starts at 1.
func TestPGStandInApprovalNumbersAcrossNodes(t *testing.T) {
	nodes := openPGNodes(t, pgtest.DSN(t), "sw-1", "sw-2")
	ctx := context.Background()
	const perNode = 20
	seqs := make([][]int64, 2)
	var wg sync.WaitGroup
	for i, p := range nodes {
		wg.Go(func() {
			for range perNode {
				_ = p.StandIn(ctx, func(st *StandInTx) error {
					s, err := st.NextSeq("20261207")
					seqs[i] = append(seqs[i], s)
					return err
				})
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, list := range seqs {
		for _, s := range list {
			assert.False(t, seen[s], "approval number %d given twice in a day", s)
			seen[s] = true
		}
	}
	assert.Len(t, seen, 2*perNode)
	for s := int64(1); s <= 2*perNode; s++ {
		assert.True(t, seen[s], "number %d missing", s)
	}
	require.NoError(t, nodes[1].StandIn(ctx, func(st *StandInTx) error {
		s, err := st.NextSeq("20261208")
		assert.Equal(t, int64(1), s, "a new day starts at 1")
		return err
	}))
}

// TestPGAdvicesExpireAndQueue: advices stored on one node are counted by
// every node (the queue is the cluster's), move to the exception list
// past their TTL (on any node's pass) and are listed there, opened.
func TestPGAdvicesExpireAndQueue(t *testing.T) {
	dsn := pgtest.DSN(t)
	nodes := openPGNodes(t, dsn, "sw-1", "sw-2")
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	t1 := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	require.NoError(t, a.StandIn(ctx, func(st *StandInTx) error {
		return st.AddReversals([]*Reversal{
			{Created: t1, Issuer: "bank", STAN: "000001", RRN: "r1", Frame: []byte("0120 one"), Kind: KindStandIn},
			{Created: t1.Add(time.Minute), Issuer: "bank", STAN: "000002", RRN: "r2", Frame: []byte("0120 two"), Kind: KindStandIn},
			{Created: t1, Issuer: "other", STAN: "000003", RRN: "r3", Frame: []byte("0120 three"), Kind: KindStandIn},
			{Created: t1, Issuer: "bank", STAN: "000004", RRN: "r4", Frame: []byte("0420 four")},
		})
	}))
	r, err := OpenPG(ctx, dsn, PGOptions{Node: "txn", ReadOnly: true, Keys: testKeys})
	require.NoError(t, err)
	defer r.Close()
	for _, p := range []*PG{a, b, r} {
		q, err := p.AdviceQueueState()
		require.NoError(t, err)
		assert.Equal(t, AdviceQueue{Owed: 3, Oldest: t1}, q, "node %s", p.opt.Node)
	}
	qs, err := a.QueueByIssuer(ctx)
	require.NoError(t, err)
	assert.Equal(t, IssuerQueue{Reversals: 1, Advices: 2, Oldest: t1}, qs["bank"])

	now := time.Now().UTC().Truncate(time.Millisecond)
	n, err := b.ExpireAdvices("bank", t1.Add(30*time.Second), now)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "node 2 moves node 1's advice past its TTL")
	n, err = a.ExpireAdvices("bank", t1.Add(30*time.Second), now)
	require.NoError(t, err)
	assert.Zero(t, n, "moved once")
	q, err := r.AdviceQueueState()
	require.NoError(t, err)
	assert.Equal(t, AdviceQueue{Owed: 2, Oldest: t1, Exceptions: 1}, q)
	ex, err := r.AdviceExceptions()
	require.NoError(t, err)
	require.Len(t, ex, 1)
	assert.Equal(t, "000001", ex[0].STAN)
	assert.Equal(t, []byte("0120 one"), ex[0].Frame, "opened with the keys")
	assert.Equal(t, now, ex[0].Exception)
	due, err := a.DueReversalsOf("bank", time.Now(), 0)
	require.NoError(t, err)
	for _, d := range due {
		assert.NotEqual(t, "000001", d.STAN, "an advice on the exception list is no longer sent")
	}
	raw := rawBytes(t, dsn, `SELECT frame FROM reversals`)
	for _, f := range raw {
		assert.False(t, bytes.Contains(f, []byte("0120")), "a stored advice in clear")
	}
}

// TestPGStandInAdviceTakenOverFromDeadNode: an advice stored by a node
// whose lease lapsed is claimed by a live node, as a stand-in advice (its
// kind kept), its frame opened; a repeat (0121) it records is kept as
// that node's.
func TestPGStandInAdviceTakenOverFromDeadNode(t *testing.T) {
	dsn := pgtest.DSN(t)
	nodes := openPGNodes(t, dsn, "sw-a", "sw-b")
	a, b := nodes[0], nodes[1]
	ctx := context.Background()
	require.NoError(t, a.StandIn(ctx, func(st *StandInTx) error {
		return st.AddReversals([]*Reversal{{Issuer: "bank", STAN: "000001", Frame: []byte("0120 advice"), Kind: KindStandIn}})
	}))
	due, err := b.DueReversalsOf("bank", time.Now(), 0)
	require.NoError(t, err)
	assert.Empty(t, due, "a live node's advices are its own")

	require.NoError(t, a.Close())
	_, err = b.pool.Exec(ctx, `UPDATE nodes SET heartbeat_ns = 0 WHERE node = 'sw-a'`) // its lease lapsed
	require.NoError(t, err)
	due, err = b.DueReversalsOf("bank", time.Now(), 0)
	require.NoError(t, err)
	require.Len(t, due, 1)
	assert.Equal(t, KindStandIn, due[0].Kind)
	require.NoError(t, due[0].FrameErr)
	assert.Equal(t, []byte("0120 advice"), due[0].Frame)
	require.NoError(t, b.ReversalRepeated(&due[0], []byte("0121 advice"), time.Now(), "no answer"))
	pending, err := b.PendingReversals()
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, []byte("0121 advice"), pending[0].Frame)
	assert.Equal(t, KindStandIn, pending[0].Kind)
	require.NoError(t, b.ReversalAcked(due[0].ID, "00"))
	q, err := b.AdviceQueueState()
	require.NoError(t, err)
	assert.Zero(t, q.Owed)
}

// TestPGStandInRetriedAfterDeadlock: two nodes' transactions lock two
// cards in opposite orders; PostgreSQL aborts one for the deadlock, and
// StandIn runs it again (fn called afresh): both decisions are stored.
func TestPGStandInRetriedAfterDeadlock(t *testing.T) {
	nodes := openPGNodes(t, pgtest.DSN(t), "sw-1", "sw-2")
	c1, err := nodes[0].CardHash([]byte("4111111111111111"))
	require.NoError(t, err)
	c2, err := nodes[0].CardHash([]byte("4000001234567899"))
	require.NoError(t, err)
	now := time.Now()
	var calls [2]int
	var bothLocked sync.WaitGroup
	bothLocked.Add(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, cards := range [][2][]byte{{c1, c2}, {c2, c1}} {
		wg.Go(func() {
			errs[i] = nodes[i].StandIn(context.Background(), func(st *StandInTx) error {
				calls[i]++
				if _, _, err := st.Usage("bank", cards[0], now.Add(-time.Hour)); err != nil {
					return err
				}
				if calls[i] == 1 { // the first run of each waits until both hold their first card
					bothLocked.Done()
					bothLocked.Wait()
				}
				if _, _, err := st.Usage("bank", cards[1], now.Add(-time.Hour)); err != nil {
					return err
				}
				return st.Use("bank", cards[0], now, 100)
			})
		})
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	assert.GreaterOrEqual(t, calls[0]+calls[1], 3, "the deadlock's loser ran again")
	require.NoError(t, nodes[0].StandIn(context.Background(), func(st *StandInTx) error {
		for _, c := range [][]byte{c1, c2} {
			n, _, err := st.Usage("bank", c, now.Add(-time.Hour))
			if err != nil {
				return err
			}
			assert.Equal(t, 1, n)
		}
		return nil
	}))
}
