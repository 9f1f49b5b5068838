package switchd_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// hold93 is holdIssuer speaking iso93ascii, seen on the wire: it unpacks
// every message with the dialect's own spec and keeps it. It answers each
// 1804 with 1814 (39=800, every field echoed), ignores authorizations (they
// time out) and keeps every 1420, 1421, 1120 and 1121 unanswered until
// release; then it answers them 1430/1130 with every field echoed (56
// included) and 39=400 (reversal accepted) or 000.
type hold93 struct {
	d        iso.Dialect
	spec     *iso8583.MessageSpec
	ln       net.Listener
	mu       sync.Mutex
	released bool
	stored   []*iso8583.Message // 14xx and 11xx, as received
	auths    []*iso8583.Message // 1100s, as received (never answered)
	acked    int
	netMgmt  []*iso8583.Message // 1804s, as received
	accepted int                // connections accepted
	changed  chan struct{}
	wg       sync.WaitGroup
	conns    []net.Conn
}

func startHold93(t *testing.T) *hold93 {
	t.Helper()
	d, err := iso.LookupDialect("iso93ascii")
	require.NoError(t, err)
	spec, err := d.Spec()
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := &hold93{d: d, spec: spec, ln: ln, changed: make(chan struct{}, 1)}
	h.wg.Add(1)
	go h.accept()
	t.Cleanup(h.close)
	return h
}

func (h *hold93) addr() string { return h.ln.Addr().String() }

func (h *hold93) accept() {
	defer h.wg.Done()
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.accepted++
		h.mu.Unlock()
		h.wg.Add(1)
		go h.serve(c)
	}
}

func (h *hold93) serve(c net.Conn) {
	defer h.wg.Done()
	fr := iso.NewFrameReaderFraming(c, h.d.Framing, 65535)
	for {
		msg, err := fr.Next()
		if err != nil {
			return
		}
		m := iso8583.NewMessage(h.spec)
		if m.Unpack(msg) != nil {
			continue // the test's assertions find it missing
		}
		resp := h.handle(m)
		if resp == nil {
			continue
		}
		frame, err := h.d.Framing.AppendFrame(nil, nil, resp)
		if err != nil {
			return
		}
		if _, err := c.Write(frame); err != nil {
			return
		}
	}
}

// handle keeps m and returns its answer, nil for none.
func (h *hold93) handle(m *iso8583.Message) []byte {
	mti, _ := m.GetMTI()
	h.mu.Lock()
	defer h.mu.Unlock()
	defer h.notify()
	switch mti {
	case "1100":
		h.auths = append(h.auths, m)
	case "1804":
		h.netMgmt = append(h.netMgmt, m)
		return echo93(m, "1814", "800")
	case "1420", "1421", "1120", "1121":
		h.stored = append(h.stored, m)
		if !h.released {
			return nil
		}
		h.acked++
		if mti[1] == '4' {
			return echo93(m, "1430", "400")
		}
		return echo93(m, "1130", "000")
	}
	return nil
}

// echo93 is m's answer: MTI mti, every field of m echoed, 39 = code.
func echo93(m *iso8583.Message, mti, code string) []byte {
	resp := iso8583.NewMessage(m.GetSpec())
	resp.MTI(mti)
	for id, f := range m.GetFields() {
		if id < 2 {
			continue
		}
		b, err := f.Bytes()
		if err != nil || resp.BinaryField(id, b) != nil {
			return nil
		}
	}
	if resp.Field(39, code) != nil {
		return nil
	}
	b, _ := resp.Pack()
	return b
}

func (h *hold93) notify() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

func (h *hold93) release() {
	h.mu.Lock()
	h.released = true
	h.mu.Unlock()
}

// waitFor waits until cond holds (called with h.mu held), re-checked
// after each message the issuer handles.
func (h *hold93) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(lostDeadline)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		ok := cond()
		h.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-h.changed:
		case <-deadline.C:
			t.Fatalf("1993 issuer: gave up waiting for %s", what)
		}
	}
}

func (h *hold93) close() {
	_ = h.ln.Close()
	h.mu.Lock()
	for _, c := range h.conns {
		_ = c.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// field93 is field id of m as text ("" when absent).
func field93(t *testing.T, m *iso8583.Message, id int) string {
	t.Helper()
	v, _ := text(t, m, id)
	return v
}

// hold93YAML is lostYAML with the issuer speaking iso93ascii.
func hold93YAML(path, addr, timeout string) string {
	return strings.Replace(lostYAML(path, addr, timeout, ""), "routes:\n", "    dialect: iso93ascii\nroutes:\n", 1)
}

// TestDialect1993StoredReversal: a request that times out at a 1993 issuer
// is reversed in the issuer's dialect: a stored 1420 whose original data
// is 1993's field 56 (MTI 1100, the STAN the issuer saw on the 1100, its
// date-time as YYMMDDhhmmss, the acquirer id behind its LL), never 1987's
// 90; while
// unacknowledged it is repeated as 1421, and the issuer's 1430 (39=400,
// reversal accepted) acknowledges it: nothing is owed any more.
func TestDialect1993StoredReversal(t *testing.T) {
	iss := startHold93(t)
	path := journalPath(t)
	sw := startSwitch(t, hold93YAML(path, iss.addr(), "200ms"), "bank")
	resp := send(t, dial(t, sw.addr), auth(panApprove, 100, 31))
	require.Equal(t, "91", str(t, resp, 39), "the issuer timed out")
	iss.waitFor(t, "the reversal repeated", func() bool { return len(iss.stored) >= 2 })

	iss.mu.Lock()
	first, repeat, orig := iss.stored[0], iss.stored[1], iss.auths[0]
	iss.mu.Unlock()
	mti, _ := first.GetMTI()
	assert.Equal(t, "1420", mti)
	mti, _ = repeat.GetMTI()
	assert.Equal(t, "1421", mti)
	for _, m := range []*iso8583.Message{first, repeat} {
		_, has90 := m.GetFields()[90]
		assert.False(t, has90, "1993 carries the original data in 56, not 90")
		f56 := field93(t, m, 56)
		require.GreaterOrEqual(t, len(f56), 4+6+12+2, "56: MTI, STAN, date-time, LL acquirer id")
		assert.Equal(t, "1100", f56[:4], "the original's MTI in its 1993 form")
		assert.Equal(t, field93(t, orig, 11), f56[4:10], "the STAN the issuer saw for the original")
		assert.Equal(t, field93(t, orig, 7), f56[12:22], "the original's date-time (7) behind its year")
		assert.Equal(t, "400", field93(t, m, 24), "function code of a reversal")
		assert.Equal(t, panApprove, field93(t, m, 2))
	}

	iss.release()
	iss.waitFor(t, "an acknowledged repeat", func() bool { return iss.acked >= 1 })
	awaitNoReversalsOwed(t, path)
}

// TestDialect1993AdviceRepeated: an acquirer's 0120 to a 1993 issuer goes
// as 1120; when the issuer does not answer in time it is stored (the
// acquirer gets 0130/00), repeated as 1121, never reversed, and the
// issuer's 1130 acknowledges it.
func TestDialect1993AdviceRepeated(t *testing.T) {
	iss := startHold93(t)
	path := journalPath(t)
	sw := startSwitch(t, hold93YAML(path, iss.addr(), "200ms"), "bank")
	adv := auth(panApprove, 100, 32)
	adv.MTI = "0120"
	resp := send(t, dial(t, sw.addr), adv)
	require.Equal(t, "0130", mti(t, resp))
	assert.Equal(t, "00", str(t, resp, 39), "the advice is stored: the switch delivers it")
	iss.waitFor(t, "the advice repeated", func() bool { return len(iss.stored) >= 2 })
	iss.release()
	iss.waitFor(t, "an acknowledged repeat", func() bool { return iss.acked >= 1 })
	awaitNoReversalsOwed(t, path)
	sw.stop()
	iss.mu.Lock()
	defer iss.mu.Unlock()
	mtis := make([]string, len(iss.stored))
	for i, m := range iss.stored {
		mtis[i], _ = m.GetMTI()
		assert.Equal(t, panApprove, field93(t, m, 2), "the stored advice keeps its PAN")
	}
	assert.Equal(t, "1120", mtis[0])
	for _, m := range mtis[1:] {
		assert.Equal(t, "1121", m, "repeats only, never a reversal: %v", mtis)
	}
}

// TestDialect1993Echo: the switch's network management to a 1993 issuer
// goes as 1804, sign-on with 24=801 and echoes with 24=831; the issuer's
// 1814s (39=800) are read as 0810/00, so the link stays up on its one
// connection and carries requests.
func TestDialect1993Echo(t *testing.T) {
	iss := startHold93(t)
	startSwitch(t, strings.Replace(hold93YAML(journalPath(t), iss.addr(), "2s"), "    reconnect_max: 100ms\n",
		"    reconnect_max: 100ms\n    echo_interval: 50ms\n", 1), "bank")
	iss.waitFor(t, "three echoes", func() bool { return len(iss.netMgmt) >= 4 })
	iss.mu.Lock()
	defer iss.mu.Unlock()
	assert.Equal(t, "801", field93(t, iss.netMgmt[0], 24), "sign-on first")
	for _, m := range iss.netMgmt[1:4] {
		assert.Equal(t, "831", field93(t, m, 24), "echo")
		_, has70 := m.GetFields()[70]
		assert.False(t, has70, "1993 has no field 70: the function code says it")
	}
	assert.Equal(t, 1, iss.accepted, "the 1814s kept the link up: no reconnect")
}

// TestDialectTLSListenerBinary: a listeners[] entry with TLS serves a
// binary dialect behind a TPDU: the acquirer's frames go over TLS, reach
// an issuer in another dialect, and the answer comes back in the
// listener's dialect, TPDU NIIs swapped.
func TestDialectTLSListenerBinary(t *testing.T) {
	pki := newTLSPKI(t)
	is := startDialectIssuer(t, "iso93binary")
	sw := dialectSwitchWith(t, "iso87ascii", is, fmt.Sprintf(`
listeners:
  - name: pos-tls
    address: 127.0.0.1:0
    dialect: iso87binary-tpdu
    tls:
      cert_file: %s
      key_file: %s
`, pki.serverCert, pki.srvKey))
	addr := sw.ListenerAddr("pos-tls")
	require.NotNil(t, addr)
	d, err := iso.LookupDialect("iso87binary-tpdu")
	require.NoError(t, err)
	c, err := tls.Dial("tcp", addr.String(), pki.clientConfig())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	pos := &dialectAcquirer{d: d, c: c, fr: iso.NewFrameReaderFraming(c, d.Framing, 8192)}
	sent := dialectRequest(1987, 33)
	pos.send(t, packIn(t, d, "0100", sent))
	checkIssuerSaw(t, is.next(t), is.d, d, sent)
	checkAcquirerGot(t, pos.receive(t), d, sent)

	_, err = net.Dial("tcp", addr.String()) // plain TCP is not served there
	require.NoError(t, err)
	plain := dialDialect(t, addr.String(), d)
	plain.send(t, packIn(t, d, "0100", dialectRequest(1987, 34)))
	require.NoError(t, plain.c.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = plain.fr.Next()
	require.Error(t, err, "a plain TCP frame gets no answer on a TLS listener")
}

// TestDialectAnswerFallback96: an issuer answer the acquirer's dialect
// cannot hold (a 40-character 43 for a listener whose 43 is LL 20) is
// replaced by the switch's own 96 carrying only the MTI, the echo fields
// and 39, in the acquirer's dialect, counted as a translate error.
func TestDialectAnswerFallback96(t *testing.T) {
	is := startIssuerIn(t, mustDialect(t, "iso87ascii"), func(m *iso8583.Message) {
		_ = m.Field(43, strings.Repeat("N", 40))
	})
	sw := dialectSwitchWith(t, "narrow43", is, userDialects(t))
	d := userDialect(t, "narrow43")
	acq := dialDialect(t, sw.addr, d)
	sent := dialectRequest(1987, 35)
	delete(sent, 43) // narrow43 cannot carry the request's own 43 either
	acq.send(t, packIn(t, d, "0100", sent))
	is.next(t)
	got := acq.receive(t)
	mti, _ := got.GetMTI()
	assert.Equal(t, "0110", mti)
	assert.Equal(t, "96", field93(t, got, 39))
	for _, id := range []int{11, 37, 41} {
		assert.Equal(t, sent[id], field93(t, got, id), "field %d echoed", id)
	}
	for _, id := range []int{2, 4, 38, 43} {
		_, has := got.GetFields()[id]
		assert.False(t, has, "field %d: the fallback carries the echo fields and 39 only", id)
	}
	e := sw.Metrics().Edge(metrics.SideAcquirer, "listen", "narrow43")
	assert.Equal(t, 1.0, testutil.ToFloat64(e.TranslateErrors))
}

func mustDialect(t *testing.T, name string) iso.Dialect {
	t.Helper()
	d, err := iso.LookupDialect(name)
	require.NoError(t, err)
	return d
}
