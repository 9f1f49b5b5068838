package journal

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The journal's contract, run against every backend: the SQLite journal
// and the PostgreSQL one (skipped, naming CARDSWITCH_TEST_POSTGRES, when
// no database is configured outside CI).

// backend opens a fresh, empty store for a test.
type backend struct {
	name string
	open func(t *testing.T) Store
}

var backends = []backend{
	{"sqlite", func(t *testing.T) Store { j, _ := openTemp(t, Options{}); return j }},
	{"postgres", func(t *testing.T) Store { return openPGTemp(t, pgtest.DSN(t), "node-1") }},
}

// openPGTemp opens the PostgreSQL journal at dsn as node, closed when t
// ends.
func openPGTemp(t *testing.T, dsn, node string) *PG {
	t.Helper()
	p, err := OpenPG(context.Background(), dsn, PGOptions{Node: node, Keys: testKeys})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func eachBackend(t *testing.T, fn func(t *testing.T, s Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

func TestStoreAppendListGet(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		rec := &recorder{}
		var es []*Entry
		for i := 1; i <= 5; i++ {
			e := sampleEntry(i)
			es = append(es, e)
			s.Append(e, rec)
		}
		require.NoError(t, s.Flush(ctx))
		calls := rec.snapshot()
		require.Len(t, calls, 5)
		for i, c := range calls {
			require.NoError(t, c.err)
			assert.Same(t, es[i], c.e, "waiters in Append order")
			if i > 0 {
				assert.Greater(t, c.id, calls[i-1].id, "ids increase in Append order")
			}
		}
		got, err := s.List(ctx, Filter{})
		require.NoError(t, err)
		require.Len(t, got, 5)
		assert.Equal(t, es[4].RRN, got[0].RRN, "newest first")
		one, err := s.Get(ctx, es[2].ID)
		require.NoError(t, err)
		want := *es[2]
		if pg, ok := s.(*PG); ok {
			want.Node = pg.opt.Node // entries name their node on the shared journal
		}
		assert.Equal(t, want, one)
		_, err = s.Get(ctx, es[4].ID+1000)
		var nf *NotFoundError
		assert.True(t, errors.As(err, &nf), "unknown id: %v", err)
	})
}

func TestStoreListFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		for i := 1; i <= 6; i++ {
			e := sampleEntry(i)
			if i%2 == 0 {
				e.Issuer, e.ResponseCode, e.Outcome = "bank-b", "05", Declined
			}
			s.Append(e, nil)
		}
		require.NoError(t, s.Flush(ctx))
		count := func(f Filter) int {
			got, err := s.List(ctx, f)
			require.NoError(t, err)
			return len(got)
		}
		assert.Equal(t, 1, count(Filter{RRN: sampleEntry(3).RRN}))
		assert.Equal(t, 1, count(Filter{STAN: sampleEntry(4).STAN}))
		assert.Equal(t, 3, count(Filter{Issuer: "bank-b"}))
		assert.Equal(t, 3, count(Filter{Code: "05"}))
		assert.Equal(t, 3, count(Filter{Outcome: Approved}))
		assert.Equal(t, 2, count(Filter{Since: t0.Add(5 * time.Second)}))
		assert.Equal(t, 2, count(Filter{Limit: 2}))
	})
}

func TestStoreStageFieldsCommit(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		f := Fields{Time: t0, Conn: 3, Latency: 2 * time.Millisecond, Acquirer: "acq-1", Remote: "r", Issuer: "bank-a",
			MTI: []byte("0100"), STAN: []byte("000042"), RRN: []byte("000000000042"), PAN: []byte("411111******1111"),
			ResponseCode: "00", Outcome: Approved, Reason: "issuer"}
		tk, err := s.StageFields(&f)
		require.NoError(t, err)
		s.Commit(tk)
		require.NoError(t, s.Flush(ctx))
		got, err := s.List(ctx, Filter{RRN: "000000000042"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "411111******1111", got[0].PAN)
		assert.Equal(t, 2*time.Millisecond, got[0].Latency)

		clear := f
		clear.PAN = []byte("4111111111111111")
		_, err = s.StageFields(&clear)
		require.Error(t, err, "a clear PAN is refused")
	})
}

func TestStoreStatsRecentKeysPrune(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		for i := 1; i <= 6; i++ {
			e := sampleEntry(i)
			if i == 6 {
				e.Outcome, e.ResponseCode = Duplicate, "94"
			}
			s.Append(e, nil)
		}
		require.NoError(t, s.Flush(ctx))
		st, err := s.Stats(ctx, time.Time{})
		require.NoError(t, err)
		assert.Equal(t, 6, st.Total)
		assert.Equal(t, 5, st.Approved)
		require.Len(t, st.ByCode, 2)
		assert.Equal(t, 5*time.Millisecond, st.ByCode[0].Max)

		keys, err := s.RecentKeys(t0.Add(2 * time.Second))
		require.NoError(t, err)
		require.Len(t, keys, 4, "entries 2..5; the duplicate is left out")
		assert.Equal(t, sampleEntry(2).STAN, keys[0].STAN, "oldest first")

		n, err := s.Prune(ctx, t0.Add(4*time.Second))
		require.NoError(t, err)
		assert.EqualValues(t, 3, n)
		left, err := s.List(ctx, Filter{})
		require.NoError(t, err)
		assert.Len(t, left, 3)
	})
}

func TestStoreReversals(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		a := &Reversal{Issuer: "bank-a", STAN: "000001", RRN: "r1", Frame: []byte("frame-a"), Created: t0}
		b := &Reversal{Issuer: "bank-b", STAN: "000002", RRN: "r2", Frame: []byte("frame-b"), Created: t0}
		require.NoError(t, s.AddReversals(ctx, []*Reversal{a, b}))
		require.NotEqual(t, a.ID, b.ID)
		n, err := s.ReversalCount()
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		due, err := s.DueReversalsOf("bank-a", t0, 0)
		require.NoError(t, err)
		require.Len(t, due, 1)
		assert.Equal(t, []byte("frame-a"), due[0].Frame)

		require.NoError(t, s.ReversalAttempted(a.ID, t0.Add(time.Minute), "timeout"))
		due, err = s.DueReversalsOf("bank-a", t0, 0)
		require.NoError(t, err)
		assert.Empty(t, due, "not due before its next attempt")
		require.NoError(t, s.ReversalRepeated(a, []byte("frame-a-0421"), t0, "timeout"))
		due, err = s.DueReversalsOf("bank-a", t0, 0)
		require.NoError(t, err)
		require.Len(t, due, 1)
		assert.Equal(t, []byte("frame-a-0421"), due[0].Frame)
		assert.Equal(t, 2, due[0].Attempts)

		require.NoError(t, s.ReversalAcked(a.ID, "00"))
		var nf *NotFoundError
		assert.True(t, errors.As(s.ReversalAcked(a.ID, "00"), &nf), "acknowledged once")
		n, err = s.ReversalCount()
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		locked, err := s.LockedReversals()
		require.NoError(t, err)
		assert.Empty(t, locked)
	})
}

func TestStoreClosedRefusesStaging(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store) {
		require.NoError(t, s.Close())
		rec := &recorder{}
		s.Append(sampleEntry(1), rec)
		calls := rec.snapshot()
		require.Len(t, calls, 1)
		assert.ErrorIs(t, calls[0].err, ErrClosed)
	})
}
