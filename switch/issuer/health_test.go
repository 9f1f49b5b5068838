package issuer

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Consecutive timeouts take an issuer offline at offline_after, an answer
// in between starts the count again, an answer brings it back, and 0
// means never.
func TestHealthOfflineAfter(t *testing.T) {
	var changes []bool
	h := NewHealth(func(offline bool, _ int64) { changes = append(changes, offline) })
	h.SetOfflineAfter(3)
	h.timedOut()
	h.timedOut()
	h.answered()
	h.timedOut()
	h.timedOut()
	assert.False(t, h.Offline(), "an answer in between: not consecutive")
	h.timedOut()
	assert.True(t, h.Offline())
	h.timedOut()
	h.answered()
	assert.False(t, h.Offline())
	assert.Equal(t, []bool{true, false}, changes, "each change told once")

	h.SetOfflineAfter(0)
	for range 10 {
		h.timedOut()
	}
	assert.False(t, h.Offline(), "0: never")
	var none *Health
	assert.False(t, none.Offline())
}

// Only requests that need an answer now tell of the issuer's health.
func TestRealTime(t *testing.T) {
	for mti, want := range map[string]bool{"0100": true, "0200": true, "0800": true,
		"0120": false, "0121": false, "0420": false, "0421": false, "0400": false} {
		var tx Txn
		copy(tx.MTI[:], mti)
		assert.Equal(t, want, realTime(&tx), mti)
	}
}
