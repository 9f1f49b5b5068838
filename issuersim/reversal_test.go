package issuersim

import (
	"testing"

	"github.com/stretchr/testify/assert"

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
