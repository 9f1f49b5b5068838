package switchd_test

import (
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/require"
)

// The cost of the journal on the relay path: an in-process switch and
// simulator, parallel raw acquirer clients (one request in flight each),
// journal off vs on. With the journal on, every answer waits for its group
// commit, and duplicate detection runs.
//
//	go test -run XXX -bench RelayJournal -benchtime 3s ./switch/

func BenchmarkRelayJournalOff(b *testing.B) { benchRelayJournal(b, false) }

func BenchmarkRelayJournalOn(b *testing.B) { benchRelayJournal(b, true) }

// journalBenchClients is how many connections send at once (per GOMAXPROCS).
const journalBenchClients = 16

func benchRelayJournal(b *testing.B, journal bool) {
	sim := startSim(b, config.Simulator{Name: "bank"})
	// Every client connects before any sends: the per-address cap on
	// connections without a frame yet must let them all in.
	yaml := fmt.Sprintf("listen: {max_connections_per_ip: %d, max_pending_per_ip: %d}\n",
		4*journalBenchClients*runtime.GOMAXPROCS(0), 4*journalBenchClients*runtime.GOMAXPROCS(0)) +
		"issuers:\n" + issuerYAML("bank", "5s", sim.Addr()) + "routes:\n  - bin: \"4\"\n    issuer: bank\n"
	if journal {
		yaml += fmt.Sprintf("journal:\n  path: %q\n", filepath.Join(b.TempDir(), "journal.db"))
	}
	sw := startSwitch(b, yaml, "bank")
	var seq atomic.Int64
	var client atomic.Int64
	b.SetParallelism(journalBenchClients)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := newJournalBenchClient(b, sw.addr, int(client.Add(1)))
		defer c.conn.Close()
		for pb.Next() {
			c.roundTrip(b, seq.Add(1))
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "txn/s")
}

// journalBenchClient sends one pre-packed 0100 over and over, rewriting STAN and
// RRN in place so no request is a duplicate, and reads each answer.
type journalBenchClient struct {
	conn      net.Conn
	frame     []byte // length header + message
	stan, rrn []byte // aliases into frame
	fr        *iso.FrameReader
}

func newJournalBenchClient(b *testing.B, addr string, id int) *journalBenchClient {
	conn, err := net.Dial("tcp", addr)
	require.NoError(b, err)
	req := auth("4111111111111111", 100, 1)
	req.Terminal = fmt.Sprintf("BENCH%03d", id)
	frame := iso.AppendFrame(nil, pack(b, req))
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(b, err)
	var v iso.View
	require.NoError(b, sc.Scan(frame[2:], &v))
	return &journalBenchClient{conn: conn, frame: frame, stan: v.Field(11), rrn: v.Field(37), fr: iso.NewFrameReader(conn, 65535)}
}

func (c *journalBenchClient) roundTrip(b *testing.B, n int64) {
	putJournalDigits(c.stan, n%1_000_000)
	putJournalDigits(c.rrn, n)
	if _, err := c.conn.Write(c.frame); err != nil {
		b.Error(err)
		return
	}
	resp, err := c.fr.Next()
	if err != nil {
		b.Error(err)
		return
	}
	if len(resp) < 4 || string(resp[:4]) != "0110" {
		b.Errorf("unexpected answer %q", resp[:min(len(resp), 4)])
	}
}

// putJournalDigits writes n zero-padded into dst.
func putJournalDigits(dst []byte, n int64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}
