package porttest

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// A reserved port refuses dials, cannot be bound by a socket without
// SO_REUSEADDR (so the kernel holds it), can be listened on (and again)
// by Go's listeners.
func TestReservedPort(t *testing.T) {
	port := Port(t)
	addr := &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	if err := plainBind(addr); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("bind without SO_REUSEADDR: %v, want EADDRINUSE", err)
	}
	a := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}).String()
	refused(t, a)
	for range 2 {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("listen on the reserved port: %v", err)
		}
		c, err := net.Dial("tcp", a)
		if err != nil {
			t.Fatalf("dial the listener: %v", err)
		}
		_ = c.Close()
		_ = ln.Close()
		refused(t, a)
	}
}

func refused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err == nil {
		_ = c.Close()
		t.Fatalf("dial %s answered while nothing listens", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
}

func plainBind(addr *syscall.SockaddrInet4) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	return syscall.Bind(fd, addr)
}
