package main

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// TestRelayCopiesBothWays: the Go relay phase's relay delivers what an
// acquirer writes to the upstream and the upstream's answer back, whole
// and in order, over real loopback sockets.
func TestRelayCopiesBothWays(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		c, err := echo.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go acceptRelay(ln, echo.Addr().String())

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := bytes.Repeat([]byte("0100 frame "), 20_000) // larger than one copy buffer
	go func() { _, _ = c.Write(want) }()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read back through the relay: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the relay changed the bytes")
	}
}
