package journal

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTailQueriesHoldOneSegment: behind an index stalled for a tail of
// tens of segments, the queries that read the tail (IndexBehind, List,
// Get) allocate about one segment's worth, not the tail's: a lagging
// index (a peak past journal.index_lag_max, a stuck indexer) cannot make
// `cardswitch txn` beside a switch take memory in proportion to the lag.
// They still see every entry. (Stats keeps every latency for its exact
// percentiles, 8 bytes an entry per grouping, by design; it reads the
// tail the same way.)
func TestTailQueriesHoldOneSegment(t *testing.T) {
	gate := make(chan struct{}) // the indexer waits until the end
	const segMax = 256 << 10
	j, path := openTemp(t, Options{IndexGate: gate, segMax: segMax})
	t.Cleanup(func() { close(gate) }) // before Close, which waits for the indexer
	ctx := context.Background()
	const n = 60000
	for i := 1; i <= n; i++ {
		j.Append(sampleEntry(i), nil)
		if i%1000 == 0 {
			require.NoError(t, j.FlushLog(ctx))
		}
	}
	require.NoError(t, j.FlushLog(ctx))
	segs, err := segments(path + logSuffix)
	require.NoError(t, err)
	var tail int64
	for _, s := range segs {
		st, err := os.Stat(s)
		require.NoError(t, err)
		tail += st.Size()
	}
	bound := uint64(tail / 4)
	t.Logf("tail: %d segments, %d bytes; bound %d bytes allocated per query", len(segs), tail, bound)

	var behind int
	assert.Less(t, allocated(func() { behind, _, err = j.IndexBehind(ctx) }), bound, "IndexBehind")
	require.NoError(t, err)
	assert.Equal(t, n, behind)

	var list []Entry
	assert.Less(t, allocated(func() { list, err = j.List(ctx, Filter{Limit: 10}) }), bound, "List")
	require.NoError(t, err)
	require.Len(t, list, 10)
	for i, e := range list {
		assert.EqualValues(t, n-i, e.ID)
		assert.Equal(t, sampleEntry(n-i).STAN, e.STAN)
	}
	list, err = j.List(ctx, Filter{Limit: 3, Since: t0.Add(time.Duration(n-1) * time.Second)})
	require.NoError(t, err)
	assert.Len(t, list, 2, "a filter over the tail")

	for _, id := range []int64{1, n / 2, n} {
		var e Entry
		assert.Less(t, allocated(func() { e, err = j.Get(ctx, id) }), bound, "Get")
		require.NoError(t, err)
		assert.Equal(t, id, e.ID)
	}

	st, err := j.Stats(ctx, time.Time{})
	require.NoError(t, err)
	assert.EqualValues(t, n, st.Total)
}

// allocated is how many bytes the process allocated while f ran.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}
