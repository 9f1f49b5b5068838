package switchd_test

import (
	"context"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A retransmission of a request that no issuer ever saw (answered 91 at
// once because the issuer was down) is sent when the issuer is back: only
// requests that reached an issuer make a retry a duplicate.
func TestRetryAfterIssuerDownIsNotADuplicate(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	addr := sim.Addr()
	require.NoError(t, sim.Close())
	sw := startSwitch(t, lostYAML(journalPath(t), addr, "5s", deadAddr(t)))
	c := dial(t, sw.addr)
	req := auth("4111111111111111", 100, 7)
	assert.Equal(t, "91", str(t, send(t, c, req), 39), "issuer down")

	startSim(t, config.Simulator{Listen: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sw.WaitIssuer(ctx, "bank", atLeast(1)))
	assert.Equal(t, "00", str(t, send(t, c, req), 39), "the retry reaches the issuer")
	assert.Equal(t, "94", str(t, send(t, c, req), 39), "a further retry is a duplicate")
}

// The same holds across a restart: the duplicate window refilled from the
// journal holds only requests an issuer saw.
func TestRetryAfterRestartOfRefusedRequestIsNotADuplicate(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	addr := sim.Addr()
	require.NoError(t, sim.Close())
	path := journalPath(t)
	first := startSwitch(t, lostYAML(path, addr, "5s", deadAddr(t)))
	req := auth("4111111111111111", 100, 9)
	assert.Equal(t, "91", str(t, send(t, dial(t, first.addr), req), 39), "issuer down")
	first.stop()

	startSim(t, config.Simulator{Listen: addr})
	second := startSwitch(t, lostYAML(path, addr, "5s", deadAddr(t)), "bank")
	c := dial(t, second.addr)
	assert.Equal(t, "00", str(t, send(t, c, req), 39), "the retry after the restart reaches the issuer")
	assert.Equal(t, "94", str(t, send(t, c, req), 39), "then it is a duplicate")
}
