//go:build unix

package wire

import (
	"errors"
	"io"
	"syscall"
)

// directWriter writes to a socket without waiting (the socket is
// non-blocking, as every socket of Go's runtime is): a write the socket
// cannot take at once returns what it took. Its function is made once, so
// a write allocates nothing. Only one write at a time (Writer.busy).
type directWriter struct {
	raw syscall.RawConn
	fn  func(fd uintptr) bool
	buf []byte
	n   int
	err error
}

// newDirectWriter returns a directWriter for w if w is a socket (a TCP or
// Unix connection); nil otherwise (TLS, pipes, tests' writers).
func newDirectWriter(w io.Writer) *directWriter {
	sc, ok := w.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	d := &directWriter{raw: raw}
	d.fn = func(fd uintptr) bool {
		n, err := syscall.Write(int(fd), d.buf)
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
			n, err = 0, nil // full, or interrupted: Run writes it, waiting
		}
		d.n, d.err = max(n, 0), err
		return true // never wait for the socket here
	}
	return d
}

// write writes what the socket takes of b now: n < len(b) without error
// means its buffer is full.
func (d *directWriter) write(b []byte) (n int, err error) {
	d.buf = b
	if err = d.raw.Write(d.fn); err == nil {
		n, err = d.n, d.err
	}
	d.buf, d.n, d.err = nil, 0, nil
	return n, err
}
