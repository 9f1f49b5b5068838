// Package porttest reserves loopback ports for tests that must name an
// address before anything listens on it: an issuer endpoint that is down
// until a simulator starts there, a port written into a config for a
// child process (cardswitch, PostgreSQL, HAProxy) to bind.
//
// A port found free by listening on :0 and closing the listener is free
// to everyone: another test's listener, or an outgoing connection's own
// port, can take it before the address is used, and a "dead" address can
// then answer. A reserved port stays bound, without listening, until the
// test ends, with SO_REUSEADDR: Linux never hands it out as an ephemeral
// port (a listener's :0, a connection's local port), a dial to it is
// refused while nothing listens there, and a listener that also sets
// SO_REUSEADDR (Go's net.Listen, PostgreSQL, HAProxy) can still bind it,
// as often as the test needs, while the reservation holds.
package porttest

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// Addr reserves a port on 127.0.0.1 until t ends and returns its address
// ("127.0.0.1:PORT").
func Addr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(t)))
}

// Port is Addr's port alone.
func Port(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("porttest: socket: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		t.Fatalf("porttest: SO_REUSEADDR: %v", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("porttest: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("porttest: getsockname: %v", err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}
