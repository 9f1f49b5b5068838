package journal

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Stand-in counters survive a reopen, are keyed by a hash that is not the
// PAN, and approval code numbers never repeat within a day.
func TestStandInCountersAndSeq(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(path, Options{Keys: testKeys})
	require.NoError(t, err)
	pan := []byte("4111111111111111")
	card, err := j.CardHash(pan)
	require.NoError(t, err)
	assert.False(t, bytes.Contains(card, pan))
	now := time.Now()
	ctx := context.Background()
	require.NoError(t, j.StandIn(ctx, func(st *StandInTx) error {
		for _, amt := range []int64{100, 250} {
			if err := st.Use("bank", card, now, amt); err != nil {
				return err
			}
		}
		seq, err := st.NextSeq("20261207")
		assert.Equal(t, int64(1), seq)
		return err
	}))
	require.NoError(t, j.Close())

	j, err = Open(path, Options{Keys: testKeys})
	require.NoError(t, err)
	defer j.Close()
	again, err := j.CardHash(pan)
	require.NoError(t, err)
	assert.Equal(t, card, again)
	require.NoError(t, j.StandIn(ctx, func(st *StandInTx) error {
		n, total, err := st.Usage("bank", card, now.Add(-time.Hour))
		assert.Equal(t, 2, n)
		assert.Equal(t, int64(350), total)
		n, _, _ = st.Usage("other", card, now.Add(-time.Hour))
		assert.Zero(t, n, "per issuer")
		seq, _ := st.NextSeq("20261207")
		assert.Equal(t, int64(2), seq, "the day's numbers go on after a reopen")
		require.NoError(t, st.Forget("bank", now.Add(time.Second)))
		n, _, _ = st.Usage("bank", card, time.Time{})
		assert.Zero(t, n)
		return err
	}))
}
