package journal

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAppendsWaitForALaggingIndexer: once the indexer is lagMax records
// behind (here SQLite is locked by another connection), the next append
// waits for its commit instead of piling up; it completes once the index
// moves, and nothing is lost.
func TestAppendsWaitForALaggingIndexer(t *testing.T) {
	j, path := openTemp(t, Options{lagMax: 10})
	unlock := lockSQLite(t, path)

	for i := 1; i <= 10; i++ {
		j.Append(sampleEntry(i), nil)
	}
	done := make(chan error, 1)
	go func() {
		e := sampleEntry(11)
		j.Append(e, waiterFunc(func(_ *Entry, err error) { done <- err }))
	}()
	require.Eventually(t, func() bool {
		j.log.mu.Lock()
		defer j.log.mu.Unlock()
		return j.log.waiting == 1
	}, 10e9, 1e6, "the 11th append waits for the indexer")
	select {
	case err := <-done:
		t.Fatalf("append returned while the indexer was lagMax behind: %v", err)
	default:
	}

	unlock()
	require.NoError(t, <-done)
	require.NoError(t, j.Flush(context.Background()))
	es, err := j.List(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, es, 11)
}

// TestConcurrentAppendsFullSync: with Sync "full" concurrent appends share
// fdatasyncs (sync.go); every one gets its own id, across segment
// rotations, and all are indexed.
func TestConcurrentAppendsFullSync(t *testing.T) {
	j, _ := openTemp(t, Options{Sync: "full", segMax: 8192})
	const writers, each = 8, 100
	ids := make(chan int64, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := sampleEntry(w*each + i + 1)
				j.Append(e, waiterFunc(func(e *Entry, err error) {
					assert.NoError(t, err)
					ids <- e.ID
				}))
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		assert.False(t, seen[id], "id %d given twice", id)
		seen[id] = true
	}
	assert.Len(t, seen, writers*each)
	j.syncer.mu.Lock()
	assert.Equal(t, int64(writers*each), j.syncer.synced, "every id synced")
	j.syncer.mu.Unlock()
	require.NoError(t, j.Flush(context.Background()))
	es, err := j.List(context.Background(), Filter{Limit: 2 * writers * each})
	require.NoError(t, err)
	assert.Len(t, es, writers*each)
}

// TestRecordLargerThanASegment: an entry bigger than a segment gets a
// segment of its own size.
func TestRecordLargerThanASegment(t *testing.T) {
	j, _ := openTemp(t, Options{segMax: 4096})
	big := sampleEntry(2)
	big.Reason = strings.Repeat("r", 10000)
	rec := &recorder{}
	j.Append(sampleEntry(1), rec)
	j.Append(big, rec)
	j.Append(sampleEntry(3), rec)
	for _, c := range rec.snapshot() {
		require.NoError(t, c.err)
	}
	require.NoError(t, j.Flush(context.Background()))
	got, err := j.Get(context.Background(), 2)
	require.NoError(t, err)
	assert.Equal(t, big.Reason, got.Reason)
}

// TestOpenAcceptsZeroTails: a crash leaves the current segment, and
// perhaps the one sealed just before it, at their preallocated size, ending
// in zeros: that is their end, not damage. Zeros after the records of an
// older segment (cut to its records when sealed) are.
func TestOpenAcceptsZeroTails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	writeSegment(t, path, 1, 10, nil)
	writeSegment(t, path, 11, 20, make([]byte, 5000))
	writeSegment(t, path, 21, 25, make([]byte, 16<<10))
	j, err := Open(path, Options{})
	require.NoError(t, err)
	es, err := j.List(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, es, 25)
	require.NoError(t, j.Close())

	path = filepath.Join(t.TempDir(), "journal.db")
	old := writeSegment(t, path, 1, 10, make([]byte, 4096))
	writeSegment(t, path, 11, 20, nil)
	writeSegment(t, path, 21, 25, nil)
	_, err = Open(path, Options{})
	require.ErrorContains(t, err, "journal: log segment "+old+" is corrupt at byte ")
}

// TestCloseCutsTheSegmentToItsRecords: a journal closed with records it
// could not index (SQLite refused them) keeps its segment, cut to the
// records, without the preallocated zeros.
func TestCloseCutsTheSegmentToItsRecords(t *testing.T) {
	j, path := openTemp(t, Options{})
	other, err := sql.Open("sqlite", writeDSN(path, "normal"))
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Exec("ALTER TABLE batches RENAME TO batches_away")
	require.NoError(t, err)
	appendAll(t, j, 3, nil)
	require.NoError(t, j.Close())
	segs, err := filepath.Glob(path + logSuffix + "/*" + segExt)
	require.NoError(t, err)
	require.Len(t, segs, 1)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	good, _, last, n := scanRecords(b, 0)
	assert.Equal(t, len(b), good, "no zeros after the records")
	assert.Equal(t, int64(3), last)
	assert.Equal(t, 3, n)
}

// TestFirstRecordLargerThanASegment: a record that does not fit the fresh
// current segment replaces it (both would carry its id as their name).
func TestFirstRecordLargerThanASegment(t *testing.T) {
	j, path := openTemp(t, Options{segMax: 4096})
	big := sampleEntry(1)
	big.Reason = strings.Repeat("r", 10000)
	rec := &recorder{}
	j.Append(big, rec)
	j.Append(sampleEntry(2), rec)
	for _, c := range rec.snapshot() {
		require.NoError(t, c.err)
	}
	segs, err := filepath.Glob(path + logSuffix + "/*" + segExt)
	require.NoError(t, err)
	assert.Len(t, segs, 1, "the unused first segment was replaced")
	require.NoError(t, j.Flush(context.Background()))
	es, err := j.List(context.Background(), Filter{})
	require.NoError(t, err)
	assert.Len(t, es, 2)
}

// TestRotationFailureRefusesThenRecovers: when the next segment cannot be
// allocated (here it is larger than any disk), the appends that need it
// are refused with the error, the ones before are kept, and appends work
// again once a segment can be had.
func TestRotationFailureRefusesThenRecovers(t *testing.T) {
	j, _ := openTemp(t, Options{segMax: 4096})
	l := j.log
	l.mu.Lock()
	if l.preparing { // drop the spare, so the rotation must allocate
		l.preparing = false
		if sp := <-l.spare; sp.err == nil {
			require.NoError(t, sp.s.release(true))
		}
	}
	l.segMax = 1 << 50
	l.mu.Unlock()

	rec := &recorder{}
	for i := 1; i <= 40; i++ { // ~200 bytes each: the 4 KiB segment fills up
		j.Append(sampleEntry(i), rec)
	}
	calls := rec.snapshot()
	require.Len(t, calls, 40)
	require.NoError(t, calls[0].err)
	last := calls[len(calls)-1]
	require.ErrorContains(t, last.err, "journal: log segment: ")

	l.mu.Lock()
	l.segMax = 4096
	l.mu.Unlock()
	e := sampleEntry(41)
	j.Append(e, rec)
	require.NoError(t, rec.snapshot()[40].err)
	require.NoError(t, j.Flush(context.Background()))
	es, err := j.List(context.Background(), Filter{Limit: 100})
	require.NoError(t, err)
	ok := 0
	for _, c := range calls {
		if c.err == nil {
			ok++
		}
	}
	assert.Len(t, es, ok+1, "every acknowledged entry, and no refused one")
	assert.Equal(t, e.ID, es[0].ID)
}
