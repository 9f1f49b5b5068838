package issuer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// STANs are handed out in turn, across the set's 64-bit words: a freed
// STAN comes back only after the search from the last one handed out
// reaches it, and none is handed out twice while held.
func TestSTANSetInTurn(t *testing.T) {
	s := newSTANSet(130)
	for want := uint32(1); want <= 130; want++ {
		got, ok := s.take()
		require.True(t, ok)
		require.Equal(t, want, got)
	}
	_, ok := s.take()
	require.False(t, ok, "all held")
	s.free(70)
	s.free(3)
	s.free(3) // twice: harmless
	s.free(0)
	s.free(131) // outside the space: harmless
	assert.Equal(t, 128, s.held)
	for _, want := range []uint32{3, 70} {
		got, ok := s.take()
		require.True(t, ok)
		assert.Equal(t, want, got)
	}
	_, ok = s.take()
	assert.False(t, ok)
	s.free(129)
	s.free(64)
	got, _ := s.take()
	assert.Equal(t, uint32(129), got, "after 70, 129 comes before 64")
	got, _ = s.take()
	assert.Equal(t, uint32(64), got)
}

// The full space: 999,999 STANs, none past it.
func TestSTANSetFullSpace(t *testing.T) {
	s := newSTANSet(maxSTAN)
	s.last = maxSTAN - 2
	for _, want := range []uint32{maxSTAN - 1, maxSTAN, 1} {
		got, ok := s.take()
		require.True(t, ok)
		assert.Equal(t, want, got)
	}
}
