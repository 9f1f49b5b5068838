package journal

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQuietSegmentSealedByAge: a quiet switch's records, the in-flight
// records' sealed PANs among them, do not wait in the current segment
// for 16 MiB more. Past segAge, with no write to come, the committer
// seals the segment; it is indexed and, once the in-flight hold ends,
// removed, and the PAN's ciphertext is then in no file of the log. The
// entries stay whole across such rotations and a restart.
func TestQuietSegmentSealedByAge(t *testing.T) {
	removed := make(chan string, 16)
	j, path := openTemp(t, Options{segAge: 20 * time.Millisecond, InFlightHold: 10 * time.Millisecond,
		removed: func(name string) { removed <- name }})
	ctx := context.Background()
	s := sentSample("000001", 1)
	s.PAN = []byte("4761739001010119")
	var p PreparedSent
	require.NoError(t, j.PrepareSent(&p, s))
	tk, _, err := j.StagePrepared(&p, 7)
	require.NoError(t, err)
	sealed := append([]byte(nil), p.buf...) // the record as the log holds it: the PAN sealed
	j.Commit(tk)
	j.Append(sampleEntry(1), nil) // the request's answer (its close, for the index)
	require.NoError(t, j.FlushLog(ctx))
	segs, err := segments(path + logSuffix)
	require.NoError(t, err)
	require.Len(t, segs, 1)
	data, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	require.True(t, bytes.Contains(data, sealed), "the in-flight record is in the current segment")

	select {
	case name := <-removed:
		assert.Equal(t, segs[0], name)
	case <-time.After(10 * time.Second):
		t.Fatal("the quiet segment was never sealed, indexed and removed")
	}
	assertNoFileHolds(t, path+logSuffix, sealed)
	e, err := j.Get(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, sampleEntry(1).STAN, e.STAN)

	for i := 2; i <= 5; i++ { // into the segment that follows, named after the last id
		j.Append(sampleEntry(i), nil)
		require.NoError(t, j.FlushLog(ctx))
	}
	require.NoError(t, j.Close())
	j2, err := Open(path, Options{Keys: testKeys})
	require.NoError(t, err)
	defer j2.Close()
	all, err := j2.List(ctx, Filter{})
	require.NoError(t, err)
	require.Len(t, all, 5)
	for i, e := range all {
		assert.EqualValues(t, 5-i, e.ID)
	}
}

// TestSegmentNotSealedUnderItsOwnName: a segment that no entry reached
// (in-flight records only) is never sealed by age, since the next
// segment would take its name and truncate it.
func TestSegmentNotSealedUnderItsOwnName(t *testing.T) {
	l, err := openLog(filepath.Join(t.TempDir(), "j.db"), false, segMaxSize, time.Nanosecond)
	require.NoError(t, err)
	defer l.close(false) //nolint:errcheck // a test's
	require.NoError(t, l.startSegment(7))
	require.NoError(t, l.write([]byte("side records")))
	assert.False(t, l.due(7), "the next segment would be named 7 too")
	assert.True(t, l.due(8))
	require.NoError(t, l.startSegment(8))
	assert.False(t, l.due(9), "an empty segment is not sealed")
}
