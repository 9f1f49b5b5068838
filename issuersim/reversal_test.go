package issuersim

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
)

// ReversalDrop leaves the first N attempts of each distinct reversal
// unanswered; answers leave in request order, so the first answer on the
// connection tells which attempts were dropped.
func TestReversalDrop(t *testing.T) {
	s := startSim(t, config.Simulator{ReversalDrop: 2}, nil)
	c := dialSim(t, s.Addr())
	rev := func(stan, original string) map[int]string {
		f := authFields("4111111111111111", "100", stan)
		delete(f, 2)
		if original != "" {
			f[90] = original
		}
		return f
	}
	origA := "0100000123010212000000000000100000000000000"[:42]
	origB := "0100000124010212000000000000100000000000000"[:42]
	// Different STANs, same field 90: one reversal, retransmitted.
	c.send(newMsg(t, "0420", rev("000001", origA)))
	c.send(newMsg(t, "0420", rev("000002", origB)))
	c.send(newMsg(t, "0420", rev("000003", origA)))
	resp := c.roundTrip(newMsg(t, "0420", rev("000004", origA)))
	assert.Equal(t, "000004", str(resp, 11), "attempts 1 and 2 of A and attempt 1 of B dropped")
	assert.Equal(t, "00", str(resp, 39))
	resp = c.roundTrip(newMsg(t, "0420", rev("000005", origA)))
	assert.Equal(t, "000005", str(resp, 11), "answered again after the first answer")

	// Without field 90 a reversal is told apart by STAN and RRN.
	c.send(newMsg(t, "0400", rev("000006", "")))
	c.send(newMsg(t, "0400", rev("000006", "")))
	resp = c.roundTrip(newMsg(t, "0400", rev("000006", "")))
	assert.Equal(t, "0410", str(resp, 0))

	st := s.Stats()
	assert.Equal(t, int64(5), st.ReversalsDropped)
	assert.Equal(t, int64(3), st.Reversals)
	assert.Equal(t, int64(2), st.ReversalsAcked, "A and the 0400; B never answered")
}

// A repeat (0421) is a reversal like its first attempt (0420): answered
// 0430, as ISO 8583 and jPOS answer it, and keyed by field 90 (so
// ReversalDrop counts it as an attempt of the same reversal). Every
// attempt is recorded with its MTI and fields, the PAN included; track
// data is recorded as present, never by value.
func TestReversalRepeatAnsweredAndRecorded(t *testing.T) {
	s := startSim(t, config.Simulator{ReversalDrop: 1}, nil)
	c := dialSim(t, s.Addr())
	orig := "0100000123010212000000000000100000000000000"[:42]
	f := authFields("4111111111111111", "100", "000001")
	f[90] = orig
	f[35] = "4111111111111111=25121010000012345678"
	c.send(newMsg(t, "0420", f))
	f[11] = "000002"
	resp := c.roundTrip(newMsg(t, "0421", f))
	assert.Equal(t, "0430", str(resp, 0), "a repeat is answered as its first attempt")
	assert.Equal(t, "000002", str(resp, 11), "the 0420 was the dropped attempt")

	seen := s.Reversals()
	require.Len(t, seen, 2)
	assert.Equal(t, "0420", seen[0].MTI)
	assert.Equal(t, "0421", seen[1].MTI)
	for _, r := range seen {
		assert.Equal(t, "4111111111111111", r.Fields[2])
		assert.Equal(t, orig, r.Fields[90])
		v, ok := r.Fields[35]
		assert.True(t, ok, "track 2 recorded as present")
		assert.Empty(t, v, "track 2 not kept")
	}
	assert.EqualValues(t, 1, s.Stats().ReversalsAcked)
}
