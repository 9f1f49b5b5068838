package switchd_test

import (
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// reserved holds the sockets behind deadAddr's addresses, by address.
var reserved sync.Map // string → int (a bound, not listening, socket)

// deadAddr is a loopback address nobody listens on (until a test starts
// an issuer there with listenAt, or a simulator after releaseAddr). Its
// port stays bound, without listening, for the whole test: a dial is
// refused, and no other listener, and no outgoing connection's own port
// (a connection to itself), can take it meanwhile. A port closed at once
// could be, and the switch's issuer link then signed on with whatever
// answered there: CI saw a stand-in test relayed a foreign 91.
func deadAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	reserved.Store(addr, fd)
	t.Cleanup(func() { releaseAddr(addr) })
	return addr
}

// releaseAddr gives up deadAddr's hold on addr, for a listener that
// cannot be handed the socket (a simulator started from its config).
func releaseAddr(addr string) {
	if fd, ok := reserved.LoadAndDelete(addr); ok {
		_ = syscall.Close(fd.(int))
	}
}

// listenAt listens on addr: on deadAddr's own socket when addr is one, so
// the port is never free between the two.
func listenAt(t testing.TB, addr string) net.Listener {
	t.Helper()
	fd, ok := reserved.LoadAndDelete(addr)
	if !ok {
		ln, err := net.Listen("tcp", addr)
		require.NoError(t, err)
		return ln
	}
	require.NoError(t, syscall.Listen(fd.(int), syscall.SOMAXCONN))
	f := os.NewFile(uintptr(fd.(int)), addr)
	defer f.Close()
	ln, err := net.FileListener(f)
	require.NoError(t, err)
	return ln
}
