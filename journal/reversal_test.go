package journal

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReversalLifecycle(t *testing.T) {
	j, path := openTemp(t, Options{})
	ctx := context.Background()
	now := t0
	frame := []byte("0420-packed-frame")

	id, err := j.AddReversal(ctx, &Reversal{Created: now, Issuer: "bank-a", EntryID: 7, STAN: "000007",
		RRN: "000000000007", Frame: frame})
	require.NoError(t, err)
	other, err := j.AddReversal(ctx, &Reversal{Created: now.Add(time.Second), Issuer: "bank-b", Frame: frame,
		NextAttempt: now.Add(time.Hour)})
	require.NoError(t, err)

	due := dueIDs(t, j, now)
	assert.Equal(t, []int64{id}, due, "added: due at once; the other not before its NextAttempt")
	n, err := j.ReversalCount()
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	require.NoError(t, j.ReversalAttempted(id, now.Add(30*time.Second), "issuer link down"))
	assert.Empty(t, dueIDs(t, j, now.Add(29*time.Second)), "attempted: not due before next")
	assert.Equal(t, []int64{id}, dueIDs(t, j, now.Add(30*time.Second)), "due again at next")

	rs, err := j.DueReversals(now.Add(2*time.Hour), 0)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, []int64{id, other}, []int64{rs[0].ID, rs[1].ID}, "oldest first")
	r := rs[0]
	assert.Equal(t, 1, r.Attempts)
	assert.Equal(t, "issuer link down", r.LastError)
	assert.Equal(t, frame, r.Frame)
	assert.Equal(t, now, r.Created)
	assert.Equal(t, int64(7), r.EntryID)
	assert.NoError(t, r.FrameErr)
	limited, err := j.DueReversals(now.Add(2*time.Hour), 1)
	require.NoError(t, err)
	assert.Len(t, limited, 1)

	require.NoError(t, j.ReversalAcked(id, "00"))
	require.EqualError(t, j.ReversalAcked(id, "12"), fmt.Sprintf("journal: reversal %d not found", id),
		"acked: the row is erased")
	require.Error(t, j.ReversalAttempted(id, now, "late retry"), "attempt after ack finds nothing")
	assert.Empty(t, dueIDs(t, j, now.Add(time.Minute)), "acked: gone")
	pending, err := j.PendingReversals()
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, other, pending[0].ID)

	require.EqualError(t, j.ReversalAcked(99, "00"), "journal: reversal 99 not found")
	require.EqualError(t, j.ReversalAttempted(99, now, ""), "journal: reversal 99 not found")

	// The ack survives a reopen: the row is gone.
	require.NoError(t, j.Close())
	ro, err := OpenReadOnly(path, testKeys...)
	require.NoError(t, err)
	defer ro.Close()
	var rows int
	require.NoError(t, ro.rdb.QueryRow("SELECT count(*) FROM reversals WHERE id = ?", id).Scan(&rows))
	assert.Zero(t, rows)
	n, err = ro.ReversalCount()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func dueIDs(t *testing.T, j *Journal, now time.Time) []int64 {
	t.Helper()
	rs, err := j.DueReversals(now, 10)
	require.NoError(t, err)
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestAddReversalsInOneTransaction(t *testing.T) {
	j, _ := openTemp(t, Options{})
	rs := []*Reversal{{Issuer: "bank-a", STAN: "000001", Frame: []byte("a")}, {Issuer: "bank-b", STAN: "000002", Frame: []byte("b")}}
	require.NoError(t, j.AddReversals(context.Background(), rs))
	assert.NotZero(t, rs[0].ID)
	assert.NotEqual(t, rs[0].ID, rs[1].ID)
	pending, err := j.PendingReversals()
	require.NoError(t, err)
	require.Len(t, pending, 2)
	assert.Equal(t, "bank-b", pending[1].Issuer)
}

// ReversalRepeated counts the attempt and replaces the stored frame (the
// repeat, 0421), sealed to the same row: it reads back as the new frame,
// and the database holds neither frame in clear.
func TestReversalRepeatedReplacesFrameSealed(t *testing.T) {
	j, path := openTemp(t, Options{})
	ctx := context.Background()
	first, repeat := []byte("0420-PAN-4111111111111111"), []byte("0421-PAN-4111111111111111")
	id, err := j.AddReversal(ctx, &Reversal{Created: t0, Issuer: "bank-a", STAN: "000007", Frame: first})
	require.NoError(t, err)
	rs, err := j.DueReversals(t0, 0)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.NoError(t, j.ReversalRepeated(&rs[0], repeat, t0.Add(time.Second), "issuer did not answer in time"))

	rs, err = j.DueReversals(t0.Add(time.Second), 0)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, id, rs[0].ID)
	assert.Equal(t, repeat, rs[0].Frame)
	assert.NoError(t, rs[0].FrameErr)
	assert.Equal(t, 1, rs[0].Attempts)
	assert.Equal(t, "issuer did not answer in time", rs[0].LastError)
	require.NoError(t, j.ReversalAcked(id, "00"))
	require.Error(t, j.ReversalRepeated(&rs[0], repeat, t0, "late"), "acked: nothing to repeat")
	require.NoError(t, j.Close())
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f) // #nosec G304 -- the test's own journal
		if err != nil {
			continue // no WAL after a clean close
		}
		assert.NotContains(t, string(b), "4111111111111111", f)
	}
}
