package switchd_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/stretchr/testify/require"
)

// listen.close_linger: at shutdown, once the requests in flight are
// answered, acquirer connections stay open answering 91 for the linger.
func TestCloseLinger(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	routes := "issuers:\n" + issuerYAML("bank", "5s", sim.Addr()) + "routes:\n  - {bin: \"4\", issuer: bank}\n"

	// An hour: the connection outlives twice the default linger, still
	// answering, and only the acquirer's own close lets shutdown finish.
	t.Run("long", func(t *testing.T) {
		sw, raw := shutDownWithAcquirer(t, "1h", routes)
		require.Eventually(t, sw.Lingering, 10*time.Second, time.Millisecond)
		select {
		case err := <-sw.done:
			sw.done <- err // for stop at cleanup
			t.Fatal("shutdown finished with an acquirer connection inside its linger")
		case <-time.After(2 * config.DefaultCloseLinger):
		}
		raw.write(t, pack(t, auth(panApprove, 100, 2)))
		require.Equal(t, "91", str(t, raw.read(t), 39), "answered while lingering")

		require.NoError(t, raw.Close())
		awaitRun(t, sw)
	})

	// Zero: the switch closes the connection itself as soon as nothing is
	// in flight, though the acquirer keeps it open.
	t.Run("zero", func(t *testing.T) {
		sw, raw := shutDownWithAcquirer(t, "0s", routes)
		awaitRun(t, sw)
		require.NoError(t, raw.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, err := raw.fr.Next()
		require.True(t, errors.Is(err, io.EOF), "the switch closed the connection: %v", err)
	})
}

// shutDownWithAcquirer starts a switch with the given close_linger, has an
// acquirer connection get one approval, and begins the shutdown.
func shutDownWithAcquirer(t *testing.T, linger, routes string) (*running, *rawConn) {
	t.Helper()
	sw := startSwitch(t, "listen: {close_linger: "+linger+"}\n"+routes, "bank")
	raw := dialRaw(t, sw.addr)
	raw.write(t, pack(t, auth(panApprove, 100, 1)))
	require.Equal(t, "00", str(t, raw.read(t), 39))
	sw.cancel()
	return sw, raw
}

// awaitRun waits for the switch's Run to return nil; ten seconds is a
// failure, not a wait anyone relies on.
func awaitRun(t *testing.T, sw *running) {
	t.Helper()
	select {
	case err := <-sw.done:
		require.NoError(t, err)
		sw.done <- nil // for stop at cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not finish")
	}
}
