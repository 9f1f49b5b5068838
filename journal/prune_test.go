package journal

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPruneKeepsRecentEntriesAndOwedReversals(t *testing.T) {
	j, _ := openTemp(t, Options{})
	ctx := context.Background()
	for i := 1; i <= 6; i++ {
		j.Append(sampleEntry(i), nil) // t0 + i seconds
	}
	require.NoError(t, j.Flush(ctx))
	owed := &Reversal{Issuer: "bank-a", STAN: "000001", Frame: []byte("x"), Created: t0}
	require.NoError(t, j.AddReversals(ctx, []*Reversal{owed}))

	n, err := j.Prune(ctx, t0.Add(4*time.Second))
	require.NoError(t, err)
	assert.EqualValues(t, 3, n, "entries 1..3 are older than the cut")
	left, err := j.List(ctx, Filter{Limit: 100})
	require.NoError(t, err)
	assert.Len(t, left, 3)

	_, err = j.Prune(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	pending, err := j.PendingReversals()
	require.NoError(t, err)
	require.Len(t, pending, 1, "a reversal still owed is never pruned")
	assert.Equal(t, owed.ID, pending[0].ID)
}
