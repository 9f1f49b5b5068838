package issuer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testLink() *Link {
	return NewLink(LinkConfig{Timeout: time.Second, MaxInFlight: 2_000_000})
}

// When every STAN is pending or recently timed out, Send refuses at once
// instead of searching forever with the link's lock held.
func TestRegisterRefusesWhenNoSTANIsFree(t *testing.T) {
	l := testLink()
	for i := uint32(1); i <= 999999; i++ {
		if i%2 == 0 {
			l.pending[i] = &Txn{}
		} else {
			l.late[i] = lateEntry{until: 1 << 62}
		}
	}
	_, err := l.register(&Txn{})
	assert.ErrorIs(t, err, ErrBusy)
	delete(l.late, 777)
	stan, err := l.register(&Txn{})
	require.NoError(t, err)
	assert.EqualValues(t, 777, stan)
}

// The memory of timed-out requests is bounded: the oldest go first.
func TestLateMemoryIsBounded(t *testing.T) {
	l := testLink()
	for i := uint32(1); i <= maxLate+10; i++ {
		l.remember(i, &Txn{}, int64(1_000_000+i), 0)
	}
	assert.LessOrEqual(t, len(l.late), maxLate)
	_, oldest := l.late[1]
	_, newest := l.late[maxLate+10]
	assert.False(t, oldest)
	assert.True(t, newest)
	l.forgetLate(1 << 62)
	assert.Empty(t, l.late, "all expired")
}
