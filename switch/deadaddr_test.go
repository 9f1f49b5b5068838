package switchd_test

import (
	"net"
	"testing"

	"github.com/cardswitch/cardswitch/internal/porttest"
	"github.com/stretchr/testify/require"
)

// deadAddr is a loopback address nobody listens on until a test starts an
// issuer (listenAt) or a simulator there. Its port stays reserved for the
// whole test (porttest): no other listener, and no outgoing connection's
// own port, can take it meanwhile. A port closed at once could be, and the
// switch's issuer link then signed on with whatever answered there: CI saw
// a stand-in test relay a foreign 91.
func deadAddr(t testing.TB) string {
	t.Helper()
	return porttest.Addr(t)
}

// listenAt listens on addr, a deadAddr's or "127.0.0.1:0".
func listenAt(t testing.TB, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	return ln
}
