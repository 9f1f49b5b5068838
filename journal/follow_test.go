package journal

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logLines is a slog.Handler that passes each message on to a channel
// (dropping it when nobody reads), and to the test's log.
type logLines struct {
	t     testing.TB
	lines chan string
}

func (h *logLines) Enabled(context.Context, slog.Level) bool { return true }
func (h *logLines) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logLines) WithGroup(string) slog.Handler            { return h }
func (h *logLines) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.lines <- r.Message:
	default:
	}
	return nil
}

// await waits for a message containing s.
func (h *logLines) await(s string) {
	h.t.Helper()
	for l := range h.lines {
		if strings.Contains(l, s) {
			return
		}
	}
}

// TestPausedIndexNeverHoldsBackTheLog: with the indexer stopped (a
// transaction that does not end), the log takes entry after entry, far
// past what the indexer's queue holds; the lag shows in IndexLag and in a
// warning once past IndexLagMax, and queries read the entries from the
// log. Released, the indexer reads the log back and removes the segments
// it has indexed.
func TestPausedIndexNeverHoldsBackTheLog(t *testing.T) {
	gate := make(chan struct{})
	logs := &logLines{t: t, lines: make(chan string, 64)}
	j, path := openTemp(t, Options{IndexGate: gate, IndexLagMax: time.Millisecond, Log: slog.New(logs),
		segMax: 8 << 10})
	released := false
	t.Cleanup(func() {
		if !released {
			close(gate)
		}
	})
	ctx := context.Background()
	const n = 3 * logBuffers // one write each: far more batches than the queue holds
	wrote := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			j.Append(sampleEntry(i), nil)
			if err := j.FlushLog(ctx); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the log writer waits for the paused indexer")
	}
	assert.Equal(t, n, j.Lag())
	assert.Greater(t, j.IndexLag(), time.Millisecond)
	logs.await("past journal.index_lag_max")

	checkAllVisible(t, j, n, "read from the log's tail")
	behind, age, err := j.IndexBehind(ctx)
	require.NoError(t, err)
	assert.Equal(t, n, behind, "none indexed")
	assert.Positive(t, age)

	close(gate)
	released = true
	require.NoError(t, j.Flush(ctx))
	assert.Zero(t, j.Lag())
	assert.Zero(t, j.IndexLag())
	logs.await("back within journal.index_lag_max")
	checkAllVisible(t, j, n, "indexed")
	behind, _, err = j.IndexBehind(ctx)
	require.NoError(t, err)
	assert.Zero(t, behind)
	segs, err := segments(path + logSuffix)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(segs), 2, "indexed segments are removed")
}

// checkAllVisible checks that List, Get, Stats and RecentKeys (the
// duplicate window's reload) see entries 1..n.
func checkAllVisible(t *testing.T, j *Journal, n int, how string) {
	t.Helper()
	ctx := context.Background()
	es, err := j.List(ctx, Filter{Limit: 2 * n})
	require.NoError(t, err)
	require.Len(t, es, n, how)
	assert.EqualValues(t, n, es[0].ID, "newest first")
	e, err := j.Get(ctx, int64(n))
	require.NoError(t, err)
	assert.Equal(t, sampleEntry(n).RRN, e.RRN)
	st, err := j.Stats(ctx, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, n, st.Total, how)
	keys, err := j.RecentKeys(t0)
	require.NoError(t, err)
	assert.Len(t, keys, n, how)
}

// TestIndexCatchesUpWhileTheWriterWrites: released while entries keep
// coming, the indexer reads back what the writer left in the log, takes
// the queue again, and ends with every entry indexed once, in order, and
// the indexed segments removed.
func TestIndexCatchesUpWhileTheWriterWrites(t *testing.T) {
	gate := make(chan struct{})
	j, path := openTemp(t, Options{IndexGate: gate, segMax: 8 << 10})
	ctx := context.Background()
	const n = 3 * logBuffers
	write := func(lo, hi int) {
		for i := lo; i <= hi; i++ {
			j.Append(sampleEntry(i), nil)
			require.NoError(t, j.FlushLog(ctx))
		}
	}
	write(1, n)
	close(gate)
	write(n+1, 3*n) // while the indexer reads back
	require.NoError(t, j.Flush(ctx))
	assert.Zero(t, j.Lag())
	checkAllVisible(t, j, 3*n, "indexed")
	behind, _, err := j.IndexBehind(ctx)
	require.NoError(t, err)
	assert.Zero(t, behind)
	var rows int
	require.NoError(t, j.rdb.QueryRow(`SELECT COUNT(*) FROM batches WHERE first_id > last_id`).Scan(&rows))
	assert.Zero(t, rows)
	n64, err := maxEntryID(ctx, j.rdb)
	require.NoError(t, err)
	assert.EqualValues(t, 3*n, n64)
	segs, err := segments(path + logSuffix)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(segs), 2, "indexed segments are removed")
}

// TestScanKeysReadsWhatDecodingReads: the keys read back from the log
// without decoding a record are those a full decode gives, with or
// without an RRN and STAN, and with dialects after the texts.
func TestScanKeysReadsWhatDecodingReads(t *testing.T) {
	plain := sampleEntry(7)
	bare := sampleEntry(8)
	bare.RRN, bare.STAN = "", ""
	dialects := sampleEntry(9)
	dialects.AcquirerDialect, dialects.IssuerDialect = "iso87binary", "iso93ascii"
	for _, e := range []*Entry{plain, bare, dialects} {
		e.ID = int64(e.Conn) + 100
		b := appendRecord(nil, e)
		var r record
		_, err := nextRecord(b, &r)
		require.NoError(t, err)
		k, ok := scanKeys(b[recHeader:])
		require.True(t, ok)
		assert.Equal(t, keysOf(&r), k)
	}
	_, ok := scanKeys([]byte{recKindV1, 0x80})
	assert.False(t, ok, "a truncated varint")
}
