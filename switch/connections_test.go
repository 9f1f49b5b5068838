package switchd_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countProxy stands between the switch and an issuer simulator and counts,
// per connection, the frames the switch sends: which MTI came first (the
// sign-on) and how many requests (0100/0200) followed.
type countProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  []*countedConn
	refuse bool // close new connections at once (the issuer is unreachable)
}

type countedConn struct {
	down, up net.Conn
	first    string // MTI of the first frame
	requests int
}

func startCountProxy(t testing.TB, target string) *countProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	px := &countProxy{ln: ln, target: target}
	px.wg.Add(1)
	go px.accept()
	t.Cleanup(px.close)
	return px
}

func (px *countProxy) accept() {
	defer px.wg.Done()
	for {
		down, err := px.ln.Accept()
		if err != nil {
			return
		}
		px.mu.Lock()
		refuse := px.refuse
		px.mu.Unlock()
		var up net.Conn
		if !refuse {
			up, err = net.Dial("tcp", px.target)
		}
		if refuse || err != nil {
			_ = down.Close()
			continue
		}
		cc := &countedConn{down: down, up: up}
		px.mu.Lock()
		px.conns = append(px.conns, cc)
		px.mu.Unlock()
		px.wg.Add(2)
		go func() {
			defer px.wg.Done()
			_, _ = io.Copy(down, up)
			cc.close()
		}()
		go func() {
			defer px.wg.Done()
			px.forward(cc)
		}()
	}
}

// forward counts each frame before passing it on, so that a request is
// counted before its answer can reach the acquirer.
func (px *countProxy) forward(cc *countedConn) {
	defer cc.close()
	fr := iso.NewFrameReader(cc.down, 65535)
	for {
		body, err := fr.Next()
		if err != nil || len(body) < 4 {
			return
		}
		mti := string(body[:4])
		px.mu.Lock()
		if cc.first == "" {
			cc.first = mti
		}
		if mti == "0100" || mti == "0200" {
			cc.requests++
		}
		px.mu.Unlock()
		if iso.WriteFrame(cc.up, body) != nil {
			return
		}
	}
}

func (cc *countedConn) close() {
	_ = cc.down.Close()
	_ = cc.up.Close()
}

// snapshot returns each connection's first MTI and request count so far.
func (px *countProxy) snapshot() (first []string, requests []int) {
	px.mu.Lock()
	defer px.mu.Unlock()
	for _, cc := range px.conns {
		first, requests = append(first, cc.first), append(requests, cc.requests)
	}
	return first, requests
}

func (px *countProxy) kill(i int) {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.conns[i].close()
}

func (px *countProxy) setRefuse(on bool) {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.refuse = on
}

func (px *countProxy) close() {
	_ = px.ln.Close()
	px.mu.Lock()
	for _, cc := range px.conns {
		cc.close()
	}
	px.mu.Unlock()
	px.wg.Wait()
}

func connectionsYAML(endpoint string, n int) string {
	return "admin: {address: 127.0.0.1:0}\nissuers:\n" + issuerYAML("bank", "5s", endpoint) + fmt.Sprintf("    connections: %d\n", n) +
		"routes:\n  - {bin: \"4\", issuer: bank}\n"
}

func exactly(n int) func(int) bool { return func(up int) bool { return up == n } }

// linkUp is the cardswitch_issuer_link_up sample of one of bank's links.
func linkUp(t testing.TB, sw *running, endpoint, conn string) (float64, bool) {
	return opsMetric(opsScrape(t, sw), "cardswitch_issuer_link_up",
		map[string]string{"issuer": "bank", "endpoint": endpoint, "conn": conn})
}

// startConnections runs a switch keeping 3 links to one endpoint (through
// a countProxy) and checks that each signed on and is shown on its own.
func startConnections(t *testing.T, ctx context.Context) (*running, *countProxy) {
	sim := startSim(t, config.Simulator{})
	px := startCountProxy(t, sim.Addr())
	sw := opsRun(t, opsLoad(t, connectionsYAML(px.ln.Addr().String(), 3)))
	require.NoError(t, sw.WaitIssuer(ctx, "bank", exactly(3)))

	first, _ := px.snapshot()
	assert.Equal(t, []string{"0800", "0800", "0800"}, first, "three connections, each signed on")
	links := sw.Routes().Issuers[0].Links
	require.Len(t, links, 3)
	for i, l := range links {
		assert.Equal(t, px.ln.Addr().String(), l.Endpoint)
		assert.Equal(t, i+1, l.Conn, "each link of the endpoint has its own index")
		v, ok := linkUp(t, sw, l.Endpoint, fmt.Sprint(l.Conn))
		assert.True(t, ok && v == 1, "link_up{conn=%d}", l.Conn)
	}
	return sw, px
}

// issuers[].connections: that many links to the endpoint, each signed on
// on its own; requests spread over every live one; a killed connection
// leaves the others serving and comes back; a reload adds or drains links.
func TestIssuerConnections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sw, px := startConnections(t, ctx)

	acq := dial(t, sw.addr)
	stan := 0
	sendN := func(n int) {
		t.Helper()
		for range n {
			stan++
			require.Equal(t, "00", str(t, send(t, acq, auth("4111111111111111", 100, stan)), 39))
		}
	}
	sendN(30)
	_, counts := px.snapshot()
	assert.Equal(t, 30, counts[0]+counts[1]+counts[2])
	for i, n := range counts {
		assert.Positive(t, n, "connection %d carried no request: %v", i, counts)
	}

	// One connection dies and cannot come back yet: the others serve.
	px.setRefuse(true)
	px.kill(0)
	require.NoError(t, sw.WaitIssuer(ctx, "bank", exactly(2)))
	sendN(30)
	first, after := px.snapshot()
	assert.Equal(t, counts[0], after[0], "nothing on the dead connection")
	assert.Len(t, first, 3, "no new connection while the issuer refuses")
	assert.Equal(t, counts[1]+counts[2]+30, after[1]+after[2])

	// It reconnects, signs on, and takes its share again.
	px.setRefuse(false)
	require.NoError(t, sw.WaitIssuer(ctx, "bank", exactly(3)))
	sendN(30)
	first, after = px.snapshot()
	require.Len(t, first, 4)
	assert.Equal(t, "0800", first[3])
	assert.Positive(t, after[3], "the reconnected link carries requests: %v", after)

	// A reload to 1 connection drains two links; back to 2 adds one.
	for _, n := range []int{1, 2} {
		cfg, err := config.LoadBytes(fmt.Sprintf("connections-%d.yaml", n), []byte(connectionsYAML(px.ln.Addr().String(), n)))
		require.NoError(t, err)
		_, err = sw.Apply(ctx, cfg)
		require.NoError(t, err)
		require.NoError(t, sw.WaitIssuer(ctx, "bank", exactly(n)))
		assert.Len(t, sw.Routes().Issuers[0].Links, n)
		sendN(10)
		if n == 1 {
			require.NoError(t, sw.Await(ctx, func() bool { _, present := linkUp(t, sw, px.ln.Addr().String(), "3"); return !present }),
				"a drained link's series goes")
		}
	}
}
