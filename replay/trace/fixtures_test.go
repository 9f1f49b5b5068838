package trace

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "regenerate the capture fixtures in testdata/traces")

// fixtureDir holds the committed trace fixtures.
var fixtureDir = filepath.Join("..", "..", "testdata", "traces")

// captureFixtureCount is how many requests of demo.jsonl the captures hold.
const captureFixtureCount = 6

// fixtureConversation returns the client/server segments of a session
// replaying the first requests of demo.jsonl, with their responses built
// by iso.BuildResponse with the expected codes. It exercises reassembly:
// request 1 is split across two segments; requests 2 and 3 are pipelined
// in three segments captured out of order and answered in reverse order;
// request 4 has a retransmitted segment; response 5 is split.
func fixtureConversation(t *testing.T, cli, srv string) (*capConn, []Message) {
	t.Helper()
	msgs, _, err := Load(filepath.Join(fixtureDir, "demo.jsonl"))
	require.NoError(t, err)
	msgs = msgs[:captureFixtureCount]
	resp := make([][]byte, len(msgs))
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	for i, m := range msgs {
		var v iso.View
		require.NoError(t, sc.Scan(m.Frame, &v))
		resp[i], err = iso.BuildResponse(iso.Spec87(), &v, m.Expect[0])
		require.NoError(t, err)
	}
	wire := func(b []byte) []byte { return append(framed(b), b...) }

	c := newCapConn(cli, srv, time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC))
	c.send(true, msgs[0].Frame)
	c.send(false, resp[0])
	c.sendParts(true, wire(msgs[1].Frame), []int{30})
	c.send(false, resp[1])
	c.sendParts(true, append(wire(msgs[2].Frame), wire(msgs[3].Frame)...), []int{40, 120}, 0, 2, 1)
	c.send(false, resp[3])
	c.send(false, resp[2])
	c.sendParts(true, wire(msgs[4].Frame), []int{50}, 0, 1, 0)
	c.send(false, resp[4])
	c.send(true, msgs[5].Frame)
	c.sendParts(false, wire(resp[5]), []int{1})
	return c, msgs
}

// TestGenerateTraceFixtures checks (or with -update rewrites) the capture
// fixtures: demo.pcap (Ethernet, IPv4) and demo.pcapng (BSD loopback, IPv6).
func TestGenerateTraceFixtures(t *testing.T) {
	c4, _ := fixtureConversation(t, "192.0.2.10:40100", "192.0.2.20:8583")
	c6, _ := fixtureConversation(t, "[2001:db8::10]:40100", "[2001:db8::20]:8583")
	files := map[string][]byte{
		"demo.pcap":   writePCAP(t, linkEthernet, c4.pkts),
		"demo.pcapng": writePCAPNG(t, linkNull, c6.pkts),
	}
	for name, data := range files {
		path := filepath.Join(fixtureDir, name)
		require.Less(t, len(data), 20<<10, name)
		if *update {
			require.NoError(t, os.WriteFile(path, data, 0o644))
			continue
		}
		committed, err := os.ReadFile(path)
		require.NoError(t, err, "run go test -run TestGenerateTraceFixtures -update ./replay/trace/")
		require.Equal(t, data, committed, "%s is stale: run go test -run TestGenerateTraceFixtures -update ./replay/trace/", name)
	}
}
