package journal

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/internal/pgtest"
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

// Nodes lists the nodes that beat, with the config hash only when the
// nodes table has a config_hash column.
func TestPGNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	a := openPGTemp(t, dsn, "sw-a")
	openPGTemp(t, dsn, "sw-b")
	nodes, err := a.Nodes(ctx)
	require.NoError(t, err)
	require.Len(t, nodes, 2)
	assert.Equal(t, "sw-a", nodes[0].Node)
	assert.Equal(t, "sw-b", nodes[1].Node)
	assert.False(t, nodes[0].Heartbeat.IsZero())
	assert.Empty(t, nodes[0].ConfigHash)

	_, err = a.pool.Exec(ctx, `ALTER TABLE nodes ADD COLUMN IF NOT EXISTS config_hash TEXT`)
	require.NoError(t, err)
	_, err = a.pool.Exec(ctx, `UPDATE nodes SET config_hash = 'abc' WHERE node = 'sw-b'`)
	require.NoError(t, err)
	nodes, err = a.Nodes(ctx)
	require.NoError(t, err)
	require.Len(t, nodes, 2)
	assert.Empty(t, nodes[0].ConfigHash)
	assert.Equal(t, "abc", nodes[1].ConfigHash)
}
