package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

// envRelayTarget is the Go relay child's upstream address.
const envRelayTarget = "CARDSWITCH_BENCH_RELAY_TARGET"

// runRelayChild is a plain byte relay written in Go, in the switch's
// position: per acquirer connection, one upstream connection and two
// copies through 64 KiB buffers (read, write; TCP_NODELAY is Go's
// default). It does none of the switch's work, no framing, routing,
// matching or journal: it is what the network and the Go runtime alone
// cost a process in the middle, the floor beneath any switch written in
// Go. On this machine it outruns socat, which copies 8 KiB at a time.
func runRelayChild() error {
	target := os.Getenv(envRelayTarget)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go acceptRelay(ln, target)
	fmt.Println(ln.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) != "mark" {
			fmt.Println("unknown command")
			continue
		}
		// No request count (a relay sees bytes, not requests) and no
		// journal.
		fmt.Println(markLine(0, 0))
	}
	return in.Err()
}

func acceptRelay(ln net.Listener, target string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go relayConn(c, target)
	}
}

func relayConn(c net.Conn, target string) {
	up, err := net.Dial("tcp", target)
	if err != nil {
		_ = c.Close()
		return
	}
	go copyConn(up, c)
	copyConn(c, up)
}

// copyConn copies src to dst until either fails, then closes both. The
// io.Reader and io.Writer wrappers keep io.CopyBuffer from taking the
// splice path, so the relay copies through user space as socat does.
func copyConn(dst, src net.Conn) {
	_, _ = io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, 64<<10))
	_ = dst.Close()
	_ = src.Close()
}
