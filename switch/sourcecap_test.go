package switchd_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dialFrom connects from the loopback address src (127.0.0.0/8 all reach
// the local host on Linux), so one test can be several source addresses.
func dialFrom(t testing.TB, src, addr string) *rawConn {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{Conn: c, fr: iso.NewFrameReader(c, 65535)}
}

// idleCrowd holds connections that send nothing (or what send writes),
// and tells which of them the switch closed.
type idleCrowd struct {
	conns    []net.Conn
	closed   chan int // index of each connection the switch closed
	answered chan int // index of each connection that received a byte
	wg       sync.WaitGroup
}

// openIdle dials n connections from 127.0.0.1, writes first on each
// (nothing when nil) and watches each for its close.
func openIdle(t *testing.T, addr string, n int, first []byte) *idleCrowd {
	t.Helper()
	crowd := &idleCrowd{closed: make(chan int, n), answered: make(chan int, n)}
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		require.NoError(t, err)
		if first != nil {
			_, _ = c.Write(first)
		}
		crowd.conns = append(crowd.conns, c)
		crowd.wg.Add(1)
		go func() {
			defer crowd.wg.Done()
			if _, err := c.Read(make([]byte, 1)); err != nil {
				crowd.closed <- i
				return
			}
			crowd.answered <- i
		}()
	}
	t.Cleanup(func() {
		for _, c := range crowd.conns {
			_ = c.Close()
		}
		crowd.wg.Wait()
	})
	return crowd
}

// awaitClosed waits until want connections were closed by the switch and
// returns the ones still open. The deadline only bounds a failing run.
func (crowd *idleCrowd) awaitClosed(t *testing.T, want int) []net.Conn {
	t.Helper()
	gone := map[int]bool{}
	deadline := time.After(30 * time.Second)
	for len(gone) < want {
		select {
		case i := <-crowd.closed:
			gone[i] = true
		case <-deadline:
			require.FailNow(t, "connections not closed at once",
				"%d of %d connections closed; want %d: a source holds slots without sending a frame", len(gone), len(crowd.conns), want)
		}
	}
	var open []net.Conn
	for i, c := range crowd.conns {
		if !gone[i] {
			open = append(open, c)
		}
	}
	return open
}

// awaitAnswered waits until n connections received a byte.
func (crowd *idleCrowd) awaitAnswered(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for range n {
		select {
		case <-crowd.answered:
		case <-deadline:
			require.FailNow(t, "held connections not answered")
		}
	}
}

// sourceCapsYAML: a listener far smaller than the crowd, so that without
// per-source caps the crowd fills it.
const sourceCapsYAML = "listen: {max_connections: 50, max_connections_per_ip: 20, max_pending_per_ip: 10, idle_timeout: 1m, frame_timeout: 1m}\n"

// 200 idle connections from 127.0.0.1: all but max_pending_per_ip are
// closed at once; an acquirer from 127.0.0.2 is still served; once the
// held ones have sent a frame they no longer count as pending, and the
// address is then capped by max_connections_per_ip. With and without an
// acquirers list.
func TestIdleConnectionsFromOneSourceCannotFillTheListener(t *testing.T) {
	for _, tc := range []struct{ name, yaml, field32 string }{
		{"anyone may connect", "admin: {address: 127.0.0.1:0}\n", ""},
		{"acquirers listed", acquirerYAML("  - {name: a, institution_id: \"123456\", allow_cidrs: [127.0.0.0/8]}\n"), "123456"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, config.Simulator{})
			sw := startSwitch(t, tc.yaml+sourceCapsYAML+bankYAML(sim.Addr()), "bank")
			crowd := openIdle(t, sw.addr, 200, nil)
			held := crowd.awaitClosed(t, 190)
			require.Len(t, held, 10)

			good := dialFrom(t, "127.0.0.2", sw.addr)
			for stan := 1; stan <= 3; stan++ {
				good.write(t, packAcq(t, auth("4111111111111111", 100, stan), tc.field32))
				_, code := readCode(t, good)
				assert.Equal(t, "00", code, "the acquirer at another address is served")
			}
			body := opsScrape(t, sw)
			opsRequireMetric(t, body, "cardswitch_rejected_total", map[string]string{"reason": "max_pending_per_ip"}, 190)

			for i, c := range held { // held, not closed: each is answered
				require.NoError(t, iso.WriteFrame(c, pack(t, acqclient.Request{MTI: "0800", STAN: 100 + i})))
			}
			crowd.awaitAnswered(t, len(held))
			// No longer pending: ten more may wait for a first frame, and
			// then the address has max_connections_per_ip open.
			more := openIdle(t, sw.addr, 11, nil).awaitClosed(t, 1)
			assert.Len(t, more, 10)
			opsRequireMetric(t, opsScrape(t, sw), "cardswitch_rejected_total",
				map[string]string{"reason": "max_connections_per_ip"}, 1)
		})
	}
}

// Under mutual TLS, connections that stall in their ClientHello count as
// pending: past max_pending_per_ip they are closed before any handshake
// work, and a TLS acquirer from another address is served.
func TestStalledTLSHandshakesCountAsPending(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	yaml := p.listenYAML(true) + "  max_connections: 30\n  max_connections_per_ip: 20\n  max_pending_per_ip: 5\n" +
		"  frame_timeout: 1m\n  idle_timeout: 1m\n" + bankYAML(sim.Addr())
	sw := startSwitch(t, yaml, "bank")
	// A TLS handshake record header announcing a ClientHello that never comes.
	hello := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}
	held := openIdle(t, sw.addr, 40, hello).awaitClosed(t, 35)
	require.Len(t, held, 5)

	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}},
		Config: p.clientConfig(p.client)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", sw.addr)
	require.NoError(t, err, "an acquirer at another address completes its handshake")
	t.Cleanup(func() { _ = conn.Close() })
	good := &rawConn{Conn: conn, fr: iso.NewFrameReader(conn, 65535)}
	good.write(t, pack(t, auth("4111111111111111", 100, 1)))
	_, code := readCode(t, good)
	assert.Equal(t, "00", code)
}

// The per-source map holds entries only while connections are open.
func TestSourceEntriesGoWithTheirConnections(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, bankYAML(sim.Addr()), "bank")
	var conns []*rawConn
	for i := range 5 {
		c := dialFrom(t, fmt.Sprintf("127.0.0.%d", 10+i), sw.addr)
		c.write(t, pack(t, acqclient.Request{MTI: "0800", STAN: 1}))
		_, code := readCode(t, c)
		require.Equal(t, "00", code)
		conns = append(conns, c)
	}
	assert.Equal(t, 5, sw.Sources())
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sw.WaitSources(ctx, 0), "entries of closed connections are dropped")
}
