package switchd

import (
	"errors"
	"log/slog"
	"net"
	"time"
)

// serveTCP accepts connections until ln is closed and hands each to handle
// on its own goroutine. Accept errors other than a closed listener (out of
// file descriptors, aborted handshakes) are logged and retried with a
// growing pause instead of ending the server: one bad moment must not stop
// the switch from taking acquirers.
func serveTCP(ln net.Listener, handle func(net.Conn), log *slog.Logger) {
	var pause time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			log.Error("accept failed; retrying", "err", err, "pause", pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		go handle(conn)
	}
}
