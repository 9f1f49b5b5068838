package journal

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// QueueByIssuer counts each issuer's reversals owed and their oldest, on
// both backends.
func TestQueueByIssuer(t *testing.T) {
	eachBackend(t, func(t *testing.T, s Store) {
		ctx := context.Background()
		qs := s.(interface {
			QueueByIssuer(context.Context) (map[string]IssuerQueue, error)
		})
		empty, err := qs.QueueByIssuer(ctx)
		require.NoError(t, err)
		assert.Empty(t, empty)
		require.NoError(t, s.AddReversals(ctx, []*Reversal{
			{Created: t0, Issuer: "bank-a", STAN: "000001", Frame: []byte("a")},
			{Created: t0.Add(time.Second), Issuer: "bank-a", STAN: "000002", Frame: []byte("b")},
			{Created: t0.Add(2 * time.Second), Issuer: "bank-b", STAN: "000003", Frame: []byte("c")},
		}))
		got, err := qs.QueueByIssuer(ctx)
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, 2, got["bank-a"].Reversals)
		assert.True(t, got["bank-a"].Oldest.Equal(t0), "%v", got["bank-a"].Oldest)
		assert.Equal(t, 1, got["bank-b"].Reversals)
		assert.Zero(t, got["bank-b"].Advices)
	})
}
