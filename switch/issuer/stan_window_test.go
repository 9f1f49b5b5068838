package issuer

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The window of a timed-out request: at least twice the timeout plus the
// grace; past that it is kept while less than half the STAN space is held
// (a quiet link remembers long), and forgotten once half is (a busy link
// remembers for the floor only), and at the latest after lateMax.
func TestRememberedWindow(t *testing.T) {
	l := matchLink(t, LinkConfig{STANSpace: 8, Timeout: time.Nanosecond, LateGrace: time.Nanosecond})
	own := &recorder{}
	sends(t, l, own, 3)
	waitExpired(t, l, 3)
	l.sweep()
	assert.Len(t, l.late, 3, "past the floor, but 3 of 8 held: kept")

	sends(t, l, own, 2) // 5 of 8 held: the oldest past the floor go
	waitTimedOut(t, l)
	assert.Equal(t, 3, l.stans.held, "below half held again")
	assert.Len(t, l.late, 3)
	_, oldest := l.late[1]
	assert.False(t, oldest)

	l.mu.Lock()
	for i := range l.lateOrder {
		l.lateOrder[i].at -= int64(lateMax)
	}
	l.mu.Unlock()
	l.sweep()
	assert.Empty(t, l.late, "none kept past lateMax")
	assert.Zero(t, l.stans.held)

	l = matchLink(t, LinkConfig{STANSpace: 8, Timeout: time.Nanosecond})
	sends(t, l, own, 8)
	waitExpired(t, l, 8)
	l.sweep()
	assert.Len(t, l.late, 8, "all held, but none past its floor (2x timeout + 10 s): none forgotten")
}

// A flood of timeouts whose late answers come at once holds no more than
// the STAN space, and the remembered requests' order no more than twice
// what is remembered.
func TestRememberedMemoryIsBounded(t *testing.T) {
	const space = 1000
	l := matchLink(t, LinkConfig{STANSpace: space, Timeout: time.Nanosecond})
	own := &recorder{}
	for round := 0; round < 20; round++ {
		stans := sends(t, l, own, space-len(l.late))
		waitExpired(t, l, space)
		for _, s := range stans[:len(stans)/2] {
			require.NotNil(t, l.takeLate(s))
		}
		assert.LessOrEqual(t, len(l.late), space)
		assert.LessOrEqual(t, len(l.lateOrder)-l.lateHead, 2*len(l.late)+lateOrderSlack)
		assert.Equal(t, len(l.late), l.stans.held)
	}
}
