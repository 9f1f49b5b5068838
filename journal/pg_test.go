package journal

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readerWaiter checks, when told an entry is journaled, that another
// connection already reads it: the entry's transaction committed before
// its Waiter was released.
type readerWaiter struct {
	r    *PG
	mu   sync.Mutex
	errs []error
}

func (w *readerWaiter) Journaled(e *Entry, err error) {
	if err == nil {
		_, err = w.r.Get(context.Background(), e.ID)
	}
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

func TestPGWaiterReleasedAfterCommit(t *testing.T) {
	dsn := pgtest.DSN(t)
	p := openPGTemp(t, dsn, "node-1")
	r, err := OpenPG(context.Background(), dsn, PGOptions{Node: "reader", ReadOnly: true})
	require.NoError(t, err)
	defer r.Close()
	w := &readerWaiter{r: r}
	for i := 1; i <= 20; i++ {
		p.Append(sampleEntry(i), w)
	}
	require.NoError(t, p.Flush(context.Background()))
	require.Len(t, w.errs, 20)
	for _, err := range w.errs {
		require.NoError(t, err, "an entry's waiter ran before its transaction committed")
	}

	// A committed ticket is readable by any node at once: no Flush.
	f := Fields{Time: t0, Issuer: "bank-a", MTI: []byte("0100"), RRN: []byte("committed"), Outcome: Approved}
	tk, err := p.StageFields(&f)
	require.NoError(t, err)
	p.Commit(tk)
	got, err := r.List(context.Background(), Filter{RRN: "committed"})
	require.NoError(t, err)
	assert.Len(t, got, 1)
	_, err = r.StageFields(&f)
	assert.ErrorIs(t, err, ErrReadOnly)
}

// TestPGConcurrentMigration: two nodes starting at once on an empty
// database; exactly one migrates, both work, and each reads the other's
// entries.
func TestPGConcurrentMigration(t *testing.T) {
	dsn := pgtest.DSN(t)
	nodes := []string{"sw-1", "sw-2"}
	opened := make([]*PG, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { opened[i], errs[i] = OpenPG(context.Background(), dsn, PGOptions{Node: n, Keys: testKeys}) })
	}
	wg.Wait()
	for _, p := range opened {
		if p != nil { // closed even when the other failed to open
			t.Cleanup(func() { _ = p.Close() })
		}
	}
	migrated := 0
	for i := range nodes {
		require.NoError(t, errs[i], nodes[i])
		if opened[i].Migrated() {
			migrated++
		}
	}
	assert.Equal(t, 1, migrated, "exactly one opener migrates")
	for i, p := range opened {
		p.Append(sampleEntry(i+1), nil)
		require.NoError(t, p.Flush(context.Background()))
	}
	for _, p := range opened {
		got, err := p.List(context.Background(), Filter{})
		require.NoError(t, err)
		assert.Len(t, got, 2, "every node's entries")
	}
	again, err := OpenPG(context.Background(), dsn, PGOptions{Node: "sw-3"})
	require.NoError(t, err)
	defer again.Close()
	assert.False(t, again.Migrated(), "an up-to-date schema is not migrated again")
}

// TestPGInFlightReversedAtNextOpen: a request recorded in flight and never
// finished (its node stopped) is reversed when that node opens again; one
// closed by StageDone, or by its entry, is not; another node's is not.
func TestPGInFlightReversedAtNextOpen(t *testing.T) {
	dsn := pgtest.DSN(t)
	p := openPGTemp(t, dsn, "sw-1")
	other := openPGTemp(t, dsn, "sw-2")
	sent := func(s Store, stan string) uint32 {
		v := Sent{Time: t0, Issuer: "bank-a", LinkSTAN: 7, MTI: []byte("0100"), PAN: []byte("4111111111111111")}
		v.Fields[3] = []byte(stan) // field 11
		tk, seq, err := s.StageSent(&v)
		require.NoError(t, err)
		s.Commit(tk)
		return seq
	}
	sent(p, "000001")
	p.StageDone(sent(p, "000002"))
	closed := sent(p, "000003")
	f := Fields{Time: t0, MTI: []byte("0100"), Outcome: Approved, Closes: closed}
	_, err := p.StageFields(&f)
	require.NoError(t, err)
	sent(other, "000009")
	require.NoError(t, p.Close()) // the record of 000001 stays open, as after a crash

	var reversed []string
	var pans [][]byte
	reverse := func(s *Sent) (*Reversal, error) {
		reversed = append(reversed, string(s.Field(11)))
		pans = append(pans, s.PAN)
		return &Reversal{Issuer: s.Issuer, STAN: string(s.Field(11)), Frame: []byte("0420"), Created: s.Time}, nil
	}
	p2, err := OpenPG(context.Background(), dsn, PGOptions{Node: "sw-1", Keys: testKeys, Reverse: reverse})
	require.NoError(t, err)
	defer p2.Close()
	assert.Equal(t, []string{"000001"}, reversed)
	assert.Equal(t, [][]byte{[]byte("4111111111111111")}, pans, "the PAN, sealed in the record, opens")
	n, err := p2.ReversalCount()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	p3, err := OpenPG(context.Background(), dsn, PGOptions{Node: "sw-1", Keys: testKeys, Reverse: reverse})
	require.NoError(t, err)
	defer p3.Close()
	assert.Len(t, reversed, 1, "reversed once")

	// No PAN in clear at rest.
	raw := rawBytes(t, dsn, `SELECT record FROM inflight UNION ALL SELECT frame FROM reversals`)
	for _, b := range raw {
		assert.False(t, bytes.Contains(b, []byte("4111111111111111")), "a PAN in clear in the database")
		assert.False(t, bytes.Contains(b, []byte("0420")), "a stored frame in clear in the database")
	}
}

func rawBytes(t *testing.T, dsn, query string) [][]byte {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer c.Close(context.Background())
	rows, err := c.Query(context.Background(), query)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	require.NoError(t, err)
	return out
}

func TestPGPasswordNeverInErrors(t *testing.T) {
	base := pgtest.BaseDSN(t)
	bad := strings.Replace(base, "://", "://nobody:s3cretpw@", 1)
	if i := strings.Index(base, "@"); i >= 0 {
		bad = base[:strings.Index(base, "://")+3] + "cardswitch:s3cretpw" + base[i:]
	}
	_, err := OpenPG(context.Background(), bad, PGOptions{Node: "n"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cretpw")
	assert.Contains(t, err.Error(), "journal.postgres")
	assert.NotContains(t, MaskDSN(bad), "s3cretpw")
}

func TestPGRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	p := openPGTemp(t, dsn, "sw-1")
	_, err := p.pool.Exec(context.Background(), `UPDATE cardswitch_schema SET version = 99`)
	require.NoError(t, err)
	_, err = OpenPG(context.Background(), dsn, PGOptions{Node: "sw-2"})
	require.ErrorContains(t, err, "the database's schema is version 99, newer than this build's")
}

// TestPGDeadNodesReversalsAreClaimed: a live node's reversals owed stay
// its own; once its heartbeat is older than the lease, live nodes claim
// them, each row by exactly one node, and deliver them (the frame opens:
// sealed with the shared keys, not to a node).
func TestPGDeadNodesReversalsAreClaimed(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	open := func(node string) *PG {
		p, err := OpenPG(ctx, dsn, PGOptions{Node: node, Keys: testKeys, Lease: time.Hour})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		beatingForALease(p)
		return p
	}
	a, b, c := open("sw-a"), open("sw-b"), open("sw-c")
	var rs []*Reversal
	for i := range 10 {
		rs = append(rs, &Reversal{Issuer: "bank-a", STAN: fmt.Sprintf("%06d", i), Frame: []byte("0420 frame"), Created: t0})
	}
	require.NoError(t, a.AddReversals(ctx, rs))
	due, err := b.DueReversalsOf("bank-a", time.Now(), 0)
	require.NoError(t, err)
	assert.Empty(t, due, "a live node's reversals are its own")

	require.NoError(t, a.Close())
	_, err = b.pool.Exec(ctx, `UPDATE nodes SET heartbeat_ns = 0 WHERE node = 'sw-a'`) // its lease lapsed
	require.NoError(t, err)
	var got [2][]Reversal
	var wg sync.WaitGroup
	for i, p := range []*PG{b, c} {
		wg.Go(func() { got[i], _ = p.DueReversalsOf("bank-a", time.Now(), 0) })
	}
	wg.Wait()
	seen := map[int64]string{}
	for i, list := range got {
		for _, r := range list {
			require.NoError(t, r.FrameErr)
			assert.Equal(t, []byte("0420 frame"), r.Frame)
			prev, dup := seen[r.ID]
			require.False(t, dup, "reversal %d claimed by %s and by node %d", r.ID, prev, i)
			seen[r.ID] = fmt.Sprint(i)
		}
	}
	assert.Len(t, seen, 10, "every row claimed by one live node")
	nb, err := b.ReversalCount()
	require.NoError(t, err)
	nc, err := c.ReversalCount()
	require.NoError(t, err)
	assert.Equal(t, 10, nb+nc)
	for _, r := range got[0] {
		require.NoError(t, b.ReversalAcked(r.ID, "00"))
	}
}

// TestPGDueReversalClaimedOnce: node c's claim of a dead node's reversals
// took its snapshot before node b claimed them all and committed; when c
// then locks the rows, PostgreSQL rechecks their new versions, which are
// b's, a live node's: c claims none. (A cursor over the claim's query
// holds c between its snapshot and its locks.)
func TestPGDueReversalClaimedOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var nodes []*PG
	for _, node := range []string{"sw-a", "sw-b", "sw-c"} {
		p, err := OpenPG(ctx, dsn, PGOptions{Node: node, Keys: testKeys, Lease: time.Hour})
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() })
		beatingForALease(p)
		nodes = append(nodes, p)
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	require.NoError(t, a.AddReversals(ctx, []*Reversal{{Issuer: "bank-a", STAN: "000001", Frame: []byte("0420 frame"),
		Created: t0}}))
	require.NoError(t, a.Close())
	_, err := b.pool.Exec(ctx, `UPDATE nodes SET heartbeat_ns = 0 WHERE node = 'sw-a'`) // its lease lapsed
	require.NoError(t, err)

	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `DECLARE claim CURSOR FOR `+pgDueReversalsSQL, c.opt.Node, time.Now().UnixNano(), "bank-a",
		c.keyIDs(), c.deadBefore(), 1<<30)
	require.NoError(t, err)
	got, err := b.DueReversalsOf("bank-a", time.Now(), 0)
	require.NoError(t, err)
	require.Len(t, got, 1, "b claims the dead node's reversal")
	rows, err := tx.Query(ctx, `FETCH ALL FROM claim`)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	assert.Empty(t, ids, "c claims a reversal b claimed")
}

// TestPGMigratesAnOlderSchema: a database at an older version is brought
// up to date by the next opener, its rows kept.
func TestPGMigratesAnOlderSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	p := openPGTemp(t, dsn, "sw-1")
	p.Append(sampleEntry(1), nil)
	require.NoError(t, p.Flush(ctx))
	_, err := p.pool.Exec(ctx, `DROP TABLE nodes; DROP TABLE dupclaims; DROP TABLE stand_in_cards;
		DROP TABLE stand_in_uses; DROP TABLE stand_in_days; DROP INDEX reversals_kind;
		UPDATE cardswitch_schema SET version = 1`) // as version 1 left it
	require.NoError(t, err)
	q, err := OpenPG(ctx, dsn, PGOptions{Node: "sw-2"})
	require.NoError(t, err, "version 1 → 2 creates the nodes table")
	defer q.Close()
	assert.True(t, q.Migrated())
	got, err := q.List(ctx, Filter{})
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

// pgReverse is an Options.Reverse that makes a recognisable 0420.
func pgReverse(s *Sent) (*Reversal, error) {
	return &Reversal{Created: s.Time, Issuer: s.Issuer, STAN: string(s.Field(11)), RRN: string(s.Field(37)),
		Frame: []byte("recovered 0420")}, nil
}

// TestPGInFlightTimeoutReversalNotStoredTwice: a request whose timeout
// reversal was stored, when its node died before the entry closing its
// record was written, is not reversed a second time.
func TestPGInFlightTimeoutReversalNotStoredTwice(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	p := openPGTemp(t, dsn, "sw-1")
	sent := sentSample("000077", 77)
	tk, _, err := p.StageSent(sent)
	require.NoError(t, err)
	p.Commit(tk)
	require.NoError(t, p.AddReversals(ctx, []*Reversal{{Created: sent.Time.Add(time.Second), Issuer: "bank",
		STAN: "000077", RRN: string(sent.Field(37)), Frame: []byte("timeout 0420")}}))
	require.NoError(t, p.Close())
	p2, err := OpenPG(ctx, dsn, PGOptions{Node: "sw-1", Keys: testKeys, Reverse: pgReverse})
	require.NoError(t, err)
	defer p2.Close()
	rs, err := p2.PendingReversals()
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, "timeout 0420", string(rs[0].Frame))
	assert.Empty(t, rawBytes(t, dsn, `SELECT record FROM inflight`), "the record is closed")
}

// TestPGDeadNodesInFlightTakenOver: the requests a node left in flight
// when its lease lapsed are reversed by a live node, once, and the
// reversals are the live node's to deliver; a live node's are left alone.
func TestPGDeadNodesInFlightTakenOver(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	a := openPGTemp(t, dsn, "sw-a")
	live := openPGTemp(t, dsn, "sw-live")
	b, err := OpenPG(ctx, dsn, PGOptions{Node: "sw-b", Keys: testKeys, Reverse: pgReverse, Lease: time.Hour})
	require.NoError(t, err)
	defer b.Close()
	beatingForALease(b)
	for _, p := range []*PG{a, live} {
		tk, _, err := p.StageSent(sentSample("000011", 11))
		require.NoError(t, err)
		p.Commit(tk)
	}
	require.NoError(t, a.Close())
	_, err = b.pool.Exec(ctx, `UPDATE nodes SET heartbeat_ns = 0 WHERE node = 'sw-a'`)
	require.NoError(t, err)
	require.NoError(t, b.takeOverInFlight(ctx))
	require.NoError(t, b.takeOverInFlight(ctx))
	due, err := b.DueReversalsOf("bank", time.Now(), 0)
	require.NoError(t, err)
	require.Len(t, due, 1, "sw-a's request, reversed once; sw-live's is its own")
	assert.Equal(t, "recovered 0420", string(due[0].Frame))
	assert.Len(t, rawBytes(t, dsn, `SELECT record FROM inflight`), 1, "sw-live's record stays")
}

// beatingForALease makes p's heartbeats count as successful for longer
// than its lease, as a node's that has been up a while: it may then take
// dead nodes' work over (deadBefore).
func beatingForALease(p *PG) {
	p.aliveSince.Store(time.Now().Add(-2 * p.opt.Lease).UnixNano())
}

// TestPGNoTakeOverUntilOwnBeatsHeldALease: after the database was
// unreachable every node's heartbeat is old; a node whose own beats have
// not yet held for a lease (it just reconnected, or just started) takes
// nothing over, or it would reverse the live nodes' requests in flight;
// once they have, it does.
func TestPGNoTakeOverUntilOwnBeatsHeldALease(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	other := openPGTemp(t, dsn, "sw-other")
	b, err := OpenPG(ctx, dsn, PGOptions{Node: "sw-b", Keys: testKeys, Reverse: pgReverse, Lease: time.Hour})
	require.NoError(t, err)
	defer b.Close()
	tk, _, err := other.StageSent(sentSample("000011", 11))
	require.NoError(t, err)
	other.Commit(tk)
	require.NoError(t, other.AddReversals(ctx, []*Reversal{{Issuer: "bank", STAN: "000001", Frame: []byte("0420")}}))
	require.NoError(t, other.Close())                              // it beats no more: its lease lapses once b counts
	_, err = b.pool.Exec(ctx, `UPDATE nodes SET heartbeat_ns = 1`) // the database was down: all beats old
	require.NoError(t, err)
	require.NoError(t, b.beat(ctx)) // b is back first

	require.NoError(t, b.takeOverInFlight(ctx))
	due, err := b.DueReversalsOf("bank", time.Now(), 0)
	require.NoError(t, err)
	assert.Empty(t, due, "sw-other's reversal and in-flight request taken over by a node back for less than a lease")
	assert.Len(t, rawBytes(t, dsn, `SELECT record FROM inflight`), 1)

	beatingForALease(b)
	require.NoError(t, b.takeOverInFlight(ctx))
	due, err = b.DueReversalsOf("bank", time.Now(), 0)
	require.NoError(t, err)
	assert.Len(t, due, 2, "sw-other's lease lapsed for a node up a whole lease: its reversal and its request in flight")
}
