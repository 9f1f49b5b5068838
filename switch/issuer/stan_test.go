package issuer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sends registers n requests owned by own and returns their link STANs.
func sends(t *testing.T, l *Link, own Owner, n int) []uint32 {
	t.Helper()
	txns := make([]Txn, n) // one allocation for all
	stans := make([]uint32, n)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range txns {
		txns[i].Owner = own
		stan, err := l.register(&txns[i])
		require.NoError(t, err, "request %d", i)
		stans[i] = stan
	}
	return stans
}

func register(l *Link) (uint32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.register(&Txn{Owner: &recorder{}})
}

// When every STAN is pending or remembered, the link refuses (ErrNoSTAN,
// an ErrBusy) instead of reusing one; a STAN set free is handed out again.
func TestRegisterRefusesWhenNoSTANIsFree(t *testing.T) {
	l := matchLink(t, LinkConfig{STANSpace: 8, Timeout: time.Nanosecond})
	own := &recorder{}
	timedOut := sends(t, l, own, 4)
	waitExpired(t, l, 4)
	l.SetTiming(time.Hour, 0)
	pending := sends(t, l, own, 4)
	assert.ElementsMatch(t, []uint32{1, 2, 3, 4, 5, 6, 7, 8}, append(timedOut, pending...))
	_, err := register(l)
	require.ErrorIs(t, err, ErrNoSTAN)
	require.ErrorIs(t, err, ErrBusy)

	require.NotNil(t, l.take(pending[2]))
	stan, err := register(l)
	require.NoError(t, err)
	assert.Equal(t, pending[2], stan, "the one answered")
	_, err = register(l)
	assert.ErrorIs(t, err, ErrNoSTAN)
}

// A STAN remembered for a late answer is never handed out again while it
// is remembered, however many are remembered: the old fixed bound of
// 200,000 forgot the oldest early and reused their STANs.
func TestRememberedSTANsAreNotReused(t *testing.T) {
	if testing.Short() {
		t.Skip("remembers 200,050 requests")
	}
	const space, remembered = 200_100, 200_050
	l := matchLink(t, LinkConfig{STANSpace: space, Timeout: time.Nanosecond})
	own := &recorder{}
	sends(t, l, own, remembered)
	waitTimedOut(t, l)
	l.SetTiming(time.Hour, 0)
	for _, stan := range sends(t, l, own, space-remembered) {
		require.Greater(t, stan, uint32(remembered), "STAN %d is remembered", stan)
	}
	stan, err := register(l)
	assert.ErrorIs(t, err, ErrNoSTAN, "got STAN %d", stan)
}

// waitTimedOut sweeps until no request is pending (their deadline is a
// nanosecond after they were sent).
func waitTimedOut(t *testing.T, l *Link) {
	t.Helper()
	for i := 0; l.InFlight() > 0; i++ {
		require.Less(t, i, 1000, "requests never timed out")
		l.sweep()
	}
}
