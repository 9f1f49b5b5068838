package switchd_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/iso"
)

// startReadsIssuerIn is startReadsIssuer for a host speaking dialect d:
// its framing, its layout, its answers (dialectIssuer.answer).
func startReadsIssuerIn(t *testing.T, d iso.Dialect) *readsIssuer {
	t.Helper()
	spec, err := d.Spec()
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	is := &readsIssuer{ln: ln, d: &dialectIssuer{d: d, spec: spec, seen: make(chan *iso8583.Message, 1024)}}
	is.cond = sync.NewCond(&is.mu)
	is.wg.Add(1)
	go is.accept()
	t.Cleanup(is.close)
	return is
}

// serveIn answers connection i in the host's dialect, what it has read in
// one go in one write: a batch ends when no whole frame is left read
// ahead.
func (is *readsIssuer) serveIn(c net.Conn, i int) {
	defer is.wg.Done()
	fr := iso.NewFrameReaderFraming(c, is.d.d.Framing, 8192)
	var out []byte
	requests := 0
	for {
		msg, err := fr.Next()
		if err != nil {
			return
		}
		req := iso8583.NewMessage(is.d.spec)
		if req.Unpack(msg) != nil {
			return
		}
		mti, _ := req.GetMTI()
		resp, err := is.d.answer(req)
		if err != nil {
			return
		}
		if out, err = is.d.d.Framing.AppendFrame(out, nil, resp); err != nil {
			return
		}
		if mti[1] != '8' {
			requests++
		}
		if fr.Complete() {
			continue // more of the same read
		}
		if requests > 0 {
			is.note(i, requests)
		}
		if _, err := c.Write(out); err != nil {
			return
		}
		out, requests = out[:0], 0
	}
}

// note records a read of connection i that brought n requests.
func (is *readsIssuer) note(i, n int) {
	is.mu.Lock()
	is.reads[i] = append(is.reads[i], n)
	is.total += n
	is.cond.Broadcast()
	is.mu.Unlock()
}

// countReads counts the reads that brought data.
type countReads struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReads) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n.Add(1)
	}
	return n, err
}

// TestBurstToTranslatingIssuer: bursts and their answers stay whole through
// translation at both edges. An acquirer in iso87binary-tpdu writes 8
// authorizations at once to a switch whose issuer speaks iso93ascii (an
// ASCII length, the 1993 layout and codes): the 8 leave translated on one
// of its 4 links in one write, and the 8 answers, translated back and
// framed behind the acquirer's TPDU, reach it in one read, each in its
// dialect with its own STAN, RRN and code.
func TestBurstToTranslatingIssuer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	is := startReadsIssuerIn(t, mustDialect(t, "iso93ascii"))
	sw := opsRun(t, opsLoad(t, "admin: {address: 127.0.0.1:0}\nlisten:\n  dialect: iso87binary-tpdu\nissuers:\n"+
		issuerYAML("bank", "5s", is.ln.Addr().String())+"    dialect: iso93ascii\n    connections: 4\n"+
		"routes:\n  - {bin: \"4\", issuer: bank}\n"))
	require.NoError(t, sw.WaitIssuer(ctx, "bank", exactly(4)))

	d := mustDialect(t, "iso87binary-tpdu")
	c, err := net.Dial("tcp", sw.addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	cr := &countReads{r: c}
	acq := &dialectAcquirer{d: d, c: c, fr: iso.NewFrameReaderFraming(cr, d.Framing, 8192)}
	const n = 8
	var out []byte
	for i := range n {
		out, err = d.Framing.AppendFrame(out, acqTPDU, packIn(t, d, "0100", dialectRequest(1987, 300+i)))
		require.NoError(t, err)
	}
	_, err = c.Write(out)
	require.NoError(t, err)

	stans := map[string]bool{}
	for range n {
		got := acq.receive(t) // checks the TPDU, unpacks in the acquirer's dialect
		mti, _ := got.GetMTI()
		code, _ := text(t, got, 39)
		stan, _ := text(t, got, 11)
		rrn, _ := text(t, got, 37)
		assert.Equal(t, "0110", mti)
		assert.Equal(t, "00", code, "the 1993 000 as the 1987 acquirer's 00")
		assert.Equal(t, sent37(mustAtoi(t, stan)), rrn, "its own RRN with its own STAN")
		stans[stan] = true
	}
	assert.Len(t, stans, n, "every request answered once")
	assert.Equal(t, [][]int{{n}}, is.waitTotal(t, n), "8 requests read in one go: one link, one write")
	assert.Equal(t, int64(1), cr.n.Load(), "their 8 answers, read in one go, in one write")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	require.NoError(t, err)
	return v
}
