package switchd_test

import (
	"net"
	"sync"
)

// issuerConns is what the hand-written test issuers share: their
// listener, the connections they accepted and the goroutines serving them.
// mu also guards the embedding issuer's own state.
type issuerConns struct {
	ln    net.Listener
	mu    sync.Mutex
	wg    sync.WaitGroup
	conns []net.Conn
}

// start accepts connections until ln closes, serving each with serve on
// its own goroutine (serve need not call wg.Done: start does).
func (ic *issuerConns) start(serve func(net.Conn)) {
	ic.wg.Add(1)
	go func() {
		defer ic.wg.Done()
		for {
			c, err := ic.ln.Accept()
			if err != nil {
				return
			}
			ic.mu.Lock()
			ic.conns = append(ic.conns, c)
			ic.mu.Unlock()
			ic.wg.Add(1)
			go func() {
				defer ic.wg.Done()
				serve(c)
			}()
		}
	}()
}

// closeConns closes every accepted connection.
func (ic *issuerConns) closeConns() {
	ic.mu.Lock()
	for _, c := range ic.conns {
		_ = c.Close()
	}
	ic.mu.Unlock()
}

// stop closes the listener and every connection, and waits for the
// serving goroutines.
func (ic *issuerConns) stop() {
	_ = ic.ln.Close()
	ic.closeConns()
	ic.wg.Wait()
}
