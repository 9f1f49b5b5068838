package switchd_test

import (
	"testing"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Frames that arrive in one write are scanned one ahead of their handling
// (the next frame's duplicate-check slots are prefetched meanwhile): each
// must still get its own answer, a bad frame its format error, and a
// retransmission inside the same batch its 94, since a frame is checked
// only when its turn comes, after the frames before it were recorded.
func TestBatchedFramesEachGetTheirAnswer(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, lostYAML(journalPath(t), sim.Addr(), "5s", ""), "bank")
	c := dialRaw(t, sw.addr)

	a, b := pack(t, auth("4111111111111111", 100, 1)), pack(t, auth("4111111111111111", 200, 2))
	bad := pack(t, auth("4111111111111111", 300, 3))
	bad = bad[:len(bad)-1] // its last field cut short: a format error, STAN still readable
	var batch []byte
	for _, f := range [][]byte{a, b, bad, a} {
		batch = iso.AppendFrame(batch, f)
	}
	_, err := c.Write(batch)
	require.NoError(t, err)

	codes := map[string][]string{} // STAN -> codes, in arrival order
	for range 4 {
		m := c.read(t)
		codes[wire(t, m, 11)] = append(codes[wire(t, m, 11)], str(t, m, 39))
	}
	assert.ElementsMatch(t, []string{"00", "94"}, codes["000001"], "the first relayed, the retransmission a duplicate")
	assert.Equal(t, []string{"00"}, codes["000002"])
	assert.Equal(t, []string{"30"}, codes["000003"])
}
