package switchd_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The latency journaled for a relayed answer runs from the request's
// arrival to the answer's: at least the issuer's own delay, at most what
// the acquirer waited. (The link stamps each read once and the answer's
// latency is taken from that stamp, not from a clock read of its own.)
func TestJournaledLatencySpansTheIssuersDelay(t *testing.T) {
	const delay, pan = 50 * time.Millisecond, "4111111111110050"
	sim := startSim(t, config.Simulator{Name: "bank", Rules: []config.SimRule{{PANSuffix: "0050", Delay: delay}}})
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, sim.Addr(), "5s", deadAddr(t)), "bank")
	c := dial(t, sw.addr)

	for stan := 1; stan <= 3; stan++ {
		began := time.Now()
		require.Equal(t, "00", str(t, send(t, c, auth(pan, 100, stan)), 39))
		waited := time.Since(began)

		require.NoError(t, sw.FlushJournal(context.Background()))
		es := entriesByRRN(t, path)[fmt.Sprintf("%012d", stan)]
		require.Len(t, es, 1)
		assert.GreaterOrEqual(t, es[0].Latency, delay, "stan %d", stan)
		assert.LessOrEqual(t, es[0].Latency, waited, "stan %d", stan)
	}
}
