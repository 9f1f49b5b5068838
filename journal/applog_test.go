package journal

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordRoundTripAndDamage(t *testing.T) {
	e := sampleEntry(7)
	e.ID = 42
	b := appendRecord(nil, e)
	var r record
	n, err := nextRecord(b, &r)
	require.NoError(t, err)
	assert.Equal(t, len(b), n)
	assert.Equal(t, *e, entryOf(&r))

	n, err = nextRecord(b[:len(b)-1], &r)
	assert.NoError(t, err, "a record cut short is a torn tail, not corruption")
	assert.Zero(t, n)

	bad := append([]byte(nil), b...)
	bad[len(bad)-3] ^= 0xff
	_, err = nextRecord(bad, &r)
	assert.ErrorIs(t, err, errBadRecord, "checksum")
	_, err = nextRecord(make([]byte, 16), &r)
	assert.ErrorIs(t, err, errBadRecord, "zero length")
}

func TestAppendRecordDoesNotAllocate(t *testing.T) {
	e := sampleEntry(1)
	e.ID = 1
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() { buf = appendRecord(buf[:0], e) })
	assert.Zero(t, allocs)

	f := Fields{Time: e.Time, Acquirer: e.Acquirer, MTI: []byte(e.MTI), PAN: []byte(e.PAN), Outcome: e.Outcome}
	allocs = testing.AllocsPerRun(100, func() {
		body, _ := AppendBody(buf[:0], &f)
		buf = appendEncoded(body[len(body):], 1, body)
	})
	assert.Zero(t, allocs, "AppendBody and appendEncoded")
}

// writeSegment writes records for entries lo..hi (ids = numbers) as the
// segment starting at lo, plus tail bytes.
func writeSegment(t *testing.T, path string, lo, hi int, tail []byte) string {
	t.Helper()
	b := sampleRecords(lo, hi)
	dir := path + logSuffix
	require.NoError(t, os.MkdirAll(dir, 0o700))
	name := segName(dir, int64(lo))
	require.NoError(t, os.WriteFile(name, append(b, tail...), 0o600))
	return name
}

// TestOpenIndexesWhatACrashLeftInTheLog: records durable in the log but
// not in SQLite (the indexer was behind when the process died) are indexed
// at the next Open, records already there are not doubled, a torn last
// record is cut, and ids continue after the highest one.
func TestOpenIndexesWhatACrashLeftInTheLog(t *testing.T) {
	j, path := openTemp(t, Options{})
	appendAll(t, j, 50, nil)
	require.NoError(t, j.Close())

	torn := appendRecord(nil, sampleEntry(101))[:20]
	writeSegment(t, path, 30, 100, torn)

	j2, err := Open(path, Options{})
	require.NoError(t, err)
	defer j2.Close()
	es, err := j2.List(context.Background(), Filter{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, es, 100)
	for _, e := range es {
		want := sampleEntry(int(e.ID))
		want.ID = e.ID
		assert.Equal(t, *want, e)
	}
	segs, err := filepath.Glob(path + logSuffix + "/*" + segExt)
	require.NoError(t, err)
	assert.Len(t, segs, 1, "replayed segments removed; one fresh segment open")

	rec := &recorder{}
	appendAll(t, j2, 1, rec)
	assert.Equal(t, int64(101), rec.snapshot()[0].id)
}

func TestOpenRefusesACorruptSealedSegment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	first := writeSegment(t, path, 1, 10, nil)
	b, err := os.ReadFile(first)
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	require.NoError(t, os.WriteFile(first, b, 0o600))
	writeSegment(t, path, 11, 20, nil)
	writeSegment(t, path, 21, 30, nil)

	_, err = Open(path, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "journal: log segment "+first+" is corrupt at byte ")
	assert.Contains(t, err.Error(), "move the segment away")
	_, err = os.Stat(first)
	assert.NoError(t, err, "nothing is deleted when Open refuses")
}

// TestOpenCutsATornSealedSegment: after a power loss the segment sealed
// just before the newest may end torn (its fsync runs in the background):
// its tail is cut, and the newest segment's records are kept.
func TestOpenCutsATornSealedSegment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	writeSegment(t, path, 1, 10, nil)
	writeSegment(t, path, 11, 20, make([]byte, 100)) // zeros where the last pages never reached the disk
	writeSegment(t, path, 21, 25, nil)
	j, err := Open(path, Options{})
	require.NoError(t, err)
	defer j.Close()
	es, err := j.List(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, es, 25)
}

func TestOneWriterPerJournal(t *testing.T) {
	j, path := openTemp(t, Options{})
	_, err := Open(path, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), path+" is in use by another process")
	ro, err := OpenReadOnly(path)
	require.NoError(t, err, "readers are welcome")
	ro.Close()
	require.NoError(t, j.Close())
	j2, err := Open(path, Options{})
	require.NoError(t, err, "the lock goes with Close")
	j2.Close()
}

func TestSegmentsRotateAndIndexedOnesAreRemoved(t *testing.T) {
	j, path := openTemp(t, Options{segMax: 4096, BatchMax: 16})
	appendAll(t, j, 2000, nil)
	segs, err := filepath.Glob(path + logSuffix + "/*" + segExt)
	require.NoError(t, err)
	assert.Len(t, segs, 1, "sealed segments are removed once indexed")
	es, err := j.List(context.Background(), Filter{Limit: 5000})
	require.NoError(t, err)
	assert.Len(t, es, 2000)
	require.NoError(t, j.Close())
	segs, err = filepath.Glob(path + logSuffix + "/*" + segExt)
	require.NoError(t, err)
	assert.Empty(t, segs, "a clean Close leaves nothing to replay")
}

// TestIndexFailureKeepsTheLog: when SQLite refuses the records, the
// entries are still durable (their waiters heard no error), the log is
// kept whole at Close, and the next Open indexes them.
func TestIndexFailureKeepsTheLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, Options{})
	require.NoError(t, err)
	appendAll(t, j, 10, nil)

	other, err := sql.Open("sqlite", writeDSN(path, "normal"))
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Exec("ALTER TABLE batches RENAME TO batches_away")
	require.NoError(t, err)

	rec := &recorder{}
	for i := 11; i <= 20; i++ {
		j.Append(sampleEntry(i), rec)
	}
	require.NoError(t, j.Flush(context.Background()))
	for _, c := range rec.snapshot() {
		assert.NoError(t, c.err, "durable in the log")
	}
	require.NoError(t, j.Close())
	segs, err := filepath.Glob(path + logSuffix + "/*" + segExt)
	require.NoError(t, err)
	assert.NotEmpty(t, segs, "the log is kept for the next Open")

	_, err = other.Exec("ALTER TABLE batches_away RENAME TO batches")
	require.NoError(t, err)
	j2, err := Open(path, Options{})
	require.NoError(t, err)
	defer j2.Close()
	es, err := j2.List(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, es, 20)
}

// TestUnindexedLogCountsWhatACrashLeft: a reader learns how many durable
// entries the log holds that queries do not show yet, and only while no
// switch writes the journal.
func TestUnindexedLogCountsWhatACrashLeft(t *testing.T) {
	j, path := openTemp(t, Options{})
	appendAll(t, j, 5, nil)
	ro, err := OpenReadOnly(path)
	require.NoError(t, err)
	defer ro.Close()
	n, err := ro.UnindexedLog(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "a writer holds the log")
	require.NoError(t, j.Close())

	writeSegment(t, path, 4, 12, nil) // 4 and 5 are indexed already
	n, err = ro.UnindexedLog(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 7, n)

	j2, err := Open(path, Options{})
	require.NoError(t, err, "a reader's count does not keep the switch from starting")
	defer j2.Close()
	n, err = ro.UnindexedLog(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	es, err := ro.List(context.Background(), Filter{})
	require.NoError(t, err)
	assert.Len(t, es, 12)
}

// TestUnindexedLogCountsAGapBelowTheHighestId: records of a batch the
// indexer gave up on lie below ids it indexed after them; they are
// counted by what the rows hold, not by comparing with the highest id.
func TestUnindexedLogCountsAGapBelowTheHighestId(t *testing.T) {
	j, path := openTemp(t, Options{})
	appendAll(t, j, 5, nil) // ids 1-5, indexed
	require.NoError(t, j.Close())

	// A row for 11-13, none for 6-10, and the log still holding 6-13: the
	// state an indexer leaves when it gave up on 6-10 and went on.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	tx, err := db.Begin()
	require.NoError(t, err)
	require.NoError(t, insertRowTx(context.Background(), tx, &batchMeta{}, sampleRecords(11, 13), 3))
	require.NoError(t, tx.Commit())
	require.NoError(t, db.Close())
	writeSegment(t, path, 6, 13, nil)

	ro, err := OpenReadOnly(path)
	require.NoError(t, err)
	defer ro.Close()
	n, err := ro.UnindexedLog(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 5, n, "ids 6-10")

	j2, err := Open(path, Options{})
	require.NoError(t, err)
	defer j2.Close()
	es, err := ro.List(context.Background(), Filter{})
	require.NoError(t, err)
	assert.Len(t, es, 13, "the next start indexed the gap")
}

// TestOpenLeavesRecordsPastTheRetentionOut: a segment kept after an index
// failure holds records Prune has deleted since (their rows went, the
// segment stayed); the next Open must not bring them back. With
// Options.Retention it leaves out the records older than the retention,
// and indexes the rest.
func TestOpenLeavesRecordsPastTheRetentionOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	now := time.Now()
	var b []byte
	for i := 1; i <= 6; i++ {
		e := sampleEntry(i)
		e.ID = int64(i)
		e.Time = now.Add(-48 * time.Hour) // pruned long ago
		if i > 4 {
			e.Time = now.Add(-time.Minute) // within the retention
		}
		b = appendRecord(b, e)
	}
	dir := path + logSuffix
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(segName(dir, 1), b, 0o600))

	j, err := Open(path, Options{Retention: 24 * time.Hour})
	require.NoError(t, err)
	defer j.Close()
	es, err := j.List(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	var ids []int64
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	assert.ElementsMatch(t, []int64{5, 6}, ids, "only the records within the retention")
	rec := &recorder{}
	appendAll(t, j, 1, rec)
	assert.EqualValues(t, 7, rec.snapshot()[0].id, "ids go on after the highest in the log")
}
