package switchd_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
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

// BenchmarkOwnAnswer: requests the switch answers itself (15, no route:
// the path of every decline it makes, and of the 91s that shed load in an
// overload), journal on. Shedding must cost less than relaying.
func BenchmarkOwnAnswer(b *testing.B) {
	window := rig(b, true, "5")
	window(relayWindow)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += relayWindow {
		window(min(relayWindow, b.N-done))
	}
}

func benchRelay(b *testing.B, withJournal bool) {
	window := relayRig(b, withJournal)
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

// TestRelayDoesNotAllocate: a relayed approval, journal on, costs the
// switch one allocation once pools and buffers are warm: its Txn, which
// holds the request. Counted over the whole process, so the journal's
// indexer, the duplicate tables (which double as keys accumulate over
// their first window) and the client are in the count; they allocate per
// batch, per index row or per doubling, which the bound of a quarter
// allocation per transaction above the one leaves room for even on a slow
// machine (small rows). A second allocation per request anywhere on the
// path fails it.
func TestRelayDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/run runs this without -race")
	}
	window := relayRig(t, true)
	const windows = 200
	for range windows {
		window(relayWindow) // warm up: pools, buffers, the metrics' label cache, the dup tables
	}
	const n = windows * relayWindow
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range windows {
		window(relayWindow)
	}
	runtime.ReadMemStats(&m1)
	perTx := float64(m1.Mallocs-m0.Mallocs) / n
	t.Logf("%.3f allocations per relayed transaction", perTx)
	require.Less(t, perTx, 1.25, "allocations per relayed transaction")
}

// relayRig starts an approving issuer and a switch (its journal on when
// withJournal) and returns window: it sends n requests in one write on
// one connection and reads their n approvals.
func relayRig(tb testing.TB, withJournal bool) (window func(n int)) {
	return rig(tb, withJournal, "4")
}

// rig is relayRig with the issuer routed BIN bin: another than "4" makes
// the switch answer every request itself (15, no route).
func rig(tb testing.TB, withJournal bool, bin string) (window func(n int)) {
	iss, err := replay.NewApprovingEchoServer("127.0.0.1:0")
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = iss.Close() })
	yaml := "issuers:\n" + issuerYAML("bank", "5s", iss.Addr()) + "routes:\n  - {bin: \"" + bin + "\", issuer: bank}\n"
	if withJournal {
		yaml += "journal:\n  path: " + filepath.Join(tb.TempDir(), "j.db") + "\n"
	}
	// Info level even under -v: per-transaction debug lines allocate, and
	// are not what this measures.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sw := startSwitchLog(tb, yaml, quiet, "bank")

	nc, err := net.Dial("tcp", sw.addr)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = nc.Close() })
	gen := newRequests(tb)
	fr := iso.NewFrameReader(bufio.NewReaderSize(nc, 64<<10), iso.MaxFrameLen)
	out := make([]byte, 0, 64<<10)
	return func(n int) {
		out = out[:0]
		for range n {
			out = iso.AppendFrame(out, gen.next())
		}
		_, err := nc.Write(out)
		require.NoError(tb, err)
		for range n {
			resp, err := fr.Next()
			require.NoError(tb, err)
			if string(resp[:4]) != "0110" {
				tb.Fatalf("answer MTI %q", resp[:4])
			}
		}
	}
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

// TestTranslatedRelayAllocations: a relayed approval translated at both
// edges (an iso87binary acquirer, a 1993 issuer in iso93ascii), journal
// on, costs the switch at most translatedAllocsPerTx allocations once
// warm, as TestRelayDoesNotAllocate counts them: its request (with the
// Carry) and nothing per translation. The client and the issuer translate
// into buffers of their own and allocate nothing per request.
func TestTranslatedRelayAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; .ci/run runs this without -race")
	}
	window := dialectRig(t, "iso87binary", "iso93ascii")
	const windows = 200
	for range windows {
		window(relayWindow)
	}
	const n = windows * relayWindow
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range windows {
		window(relayWindow)
	}
	runtime.ReadMemStats(&m1)
	perTx := float64(m1.Mallocs-m0.Mallocs) / n
	t.Logf("%.3f allocations per translated relayed transaction", perTx)
	require.Less(t, perTx, translatedAllocsPerTx, "allocations per translated relayed transaction")
}

// translatedAllocsPerTx bounds TestTranslatedRelayAllocations: the one
// allocation of a relayed request, with the same quarter of room.
const translatedAllocsPerTx = 1.25

// BenchmarkTranslatedRelay is BenchmarkRelay (journal on) with the
// acquirer in iso87binary and the issuer in iso93ascii: the switch
// translates each request and answer at both edges.
func BenchmarkTranslatedRelay(b *testing.B) {
	window := dialectRig(b, "iso87binary", "iso93ascii")
	window(relayWindow)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += relayWindow {
		window(min(relayWindow, b.N-done))
	}
}

// dialectRig is relayRig (journal on) with the switch's listener in
// dialect acq and its issuer, an approving echo, in dialect iss; the
// client translates its requests into acq and its answers back.
func dialectRig(tb testing.TB, acq, iss string) (window func(n int)) {
	issD, err := iso.LookupDialect(iss)
	require.NoError(tb, err)
	acqD, err := iso.LookupDialect(acq)
	require.NoError(tb, err)
	require.Equal(tb, iso.LengthBinary2, acqD.Framing.Length, "the client frames with a 2-byte length")
	echo, err := replay.NewEchoServerIn("127.0.0.1:0", issD, true)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = echo.Close() })
	yaml := "listen:\n  dialect: " + acq + "\nissuers:\n" + issuerYAML("bank", "5s", echo.Addr()) +
		"    dialect: " + iss + "\nroutes:\n  - {bin: \"4\", issuer: bank}\n" +
		"journal:\n  path: " + filepath.Join(tb.TempDir(), "j.db") + "\n"
	sw := startSwitchLog(tb, yaml, slog.New(slog.NewTextHandler(io.Discard, nil)), "bank")
	tr, err := iso.NewTranslator(acqD)
	require.NoError(tb, err)
	nc, err := net.Dial("tcp", sw.addr)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = nc.Close() })
	gen := newRequests(tb)
	fr := iso.NewFrameReader(bufio.NewReaderSize(nc, 64<<10), iso.MaxFrameLen)
	out := make([]byte, 0, 64<<10)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(tb, err)
	var v iso.View
	var wire, canon []byte
	return func(n int) {
		out = out[:0]
		for range n {
			wire, err = tr.FromCanon(wire[:0], gen.next(), nil)
			require.NoError(tb, err)
			out = iso.AppendFrame(out, wire)
		}
		_, err := nc.Write(out)
		require.NoError(tb, err)
		for range n {
			resp, err := fr.Next()
			require.NoError(tb, err)
			canon, err = tr.ToCanon(canon[:0], resp, nil)
			require.NoError(tb, err)
			if sc.Scan(canon, &v) != nil || string(v.MTI()) != "0110" || string(v.Field(39)) != "00" {
				tb.Fatalf("answer MTI %q, 39 %q", v.MTI(), v.Field(39))
			}
		}
	}
}
