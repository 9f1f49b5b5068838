package switchd_test

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/replay"
	"github.com/stretchr/testify/require"
)

// BenchmarkRelay relays approvals through a switch on loopback, in
// pipelined windows of relayWindow requests on one connection. The issuer
// (replay's approving echo) and this client allocate nothing per request,
// so allocs/op — and the allocs/tx metric, the same thing named for the
// reports — is the switch's own cost per relayed transaction.
func BenchmarkRelay(b *testing.B) {
	for _, jr := range []bool{false, true} {
		b.Run(fmt.Sprintf("journal=%v", jr), func(b *testing.B) { benchRelay(b, jr) })
	}
}

const relayWindow = 64

func benchRelay(b *testing.B, withJournal bool) {
	iss, err := replay.NewApprovingEchoServer("127.0.0.1:0")
	require.NoError(b, err)
	b.Cleanup(func() { _ = iss.Close() })
	yaml := "issuers:\n" + issuerYAML("bank", "5s", iss.Addr()) + "routes:\n  - {bin: \"4\", issuer: bank}\n"
	if withJournal {
		yaml += "journal:\n  path: " + filepath.Join(b.TempDir(), "j.db") + "\n"
	}
	sw := startSwitch(b, yaml, "bank")

	nc, err := net.Dial("tcp", sw.addr)
	require.NoError(b, err)
	b.Cleanup(func() { _ = nc.Close() })
	gen := newRequests(b)
	fr := iso.NewFrameReader(bufio.NewReaderSize(nc, 64<<10), iso.MaxFrameLen)
	out := make([]byte, 0, 64<<10)
	window := func(n int) {
		out = out[:0]
		for range n {
			out = iso.AppendFrame(out, gen.next())
		}
		_, err := nc.Write(out)
		require.NoError(b, err)
		for range n {
			resp, err := fr.Next()
			require.NoError(b, err)
			if string(resp[:4]) != "0110" {
				b.Fatalf("answer MTI %q", resp[:4])
			}
		}
	}
	window(relayWindow) // warm the metrics' label cache, pools and buffers
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; done += relayWindow {
		window(min(relayWindow, b.N-done))
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tx/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/tx")
}

// requests hands out one 0100 frame with a fresh STAN and RRN each time,
// so the duplicate check never answers 94.
type requests struct {
	frame         []byte
	stanAt, rrnAt int
	n             int
}

func newRequests(tb testing.TB) *requests {
	m, err := auth("4111111111111111", 1000, 1).Message()
	require.NoError(tb, err)
	frame, err := m.Pack()
	require.NoError(tb, err)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(tb, err)
	var v iso.View
	require.NoError(tb, sc.Scan(frame, &v))
	return &requests{frame: frame, stanAt: v.Offset(11), rrnAt: v.Offset(37)}
}

func (r *requests) next() []byte {
	r.n++
	putDigits(r.frame[r.stanAt:r.stanAt+6], r.n%999999+1)
	putDigits(r.frame[r.rrnAt:r.rrnAt+12], r.n)
	return r.frame
}

func putDigits(dst []byte, n int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}
