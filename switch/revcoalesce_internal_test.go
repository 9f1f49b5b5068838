package switchd

import (
	"testing"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A timeout of an original already owed a reversal (same issuer, field 90
// and RRN) is not queued twice, within one batch of stores or across
// batches; once the issuer acknowledges the reversal, a later timeout of
// that original (its STAN reused) is queued again.
func TestDuplicateTimeoutIsNotQueuedTwice(t *testing.T) {
	s, r := reversalRig(t) // not started: the test runs its steps on its own goroutine

	m, err := acqclient.Request{PAN: "4111111111111111", Amount: 100, STAN: 7, RRN: "000000000007",
		Terminal: "TERM0001"}.Message()
	require.NoError(t, err)
	frame, err := m.Pack()
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, s.scanner.Scan(frame, &v))
	timeout := func() {
		tx := &request{}
		tx.Issuer = "bank"
		tx.SetFrame(frame)
		copy(tx.MTI[:], v.MTI())
		copy(tx.STAN[:], v.Field(11))
		r.timedOut(tx, &v, deferred{})
	}
	owed := func() int {
		n, err := s.jrnl.ReversalCount()
		require.NoError(t, err)
		return n
	}

	timeout()
	timeout()
	r.storeBatch(<-r.stores) // both in one batch
	assert.Equal(t, 1, owed(), "one reversal for the original")
	timeout()
	r.storeBatch(<-r.stores) // a later batch
	assert.Equal(t, 1, owed(), "still one")
	assert.EqualValues(t, 2, r.coalesced.Load())

	due, err := s.jrnl.PendingReversals()
	require.NoError(t, err)
	require.Len(t, due, 1)
	r.result(revResult{rv: due[0], code: "00"})
	assert.Equal(t, 0, owed(), "acknowledged")
	timeout()
	r.storeBatch(<-r.stores)
	assert.Equal(t, 1, owed(), "after the acknowledgement the original may be owed again")
}
