package switchd_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// Dialects end to end: an acquirer speaking one dialect, through a real
// switch over loopback, to an issuer speaking another, and back. The
// messages are packed with moov from each dialect's spec and framed with
// its Framing, so that nothing of the switch's own code builds them.

// dialectIssuer is an issuer host speaking dialect d: it answers 0800s
// (1804s) with 00 (000), and every other request with its response MTI,
// every field of the request but the PIN block echoed, 38 and 39 =
// approved; it keeps the requests it saw.
type dialectIssuer struct {
	d    iso.Dialect
	spec *iso8583.MessageSpec
	ln   net.Listener
	seen chan *iso8583.Message
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn []net.Conn
	edit func(*iso8583.Message)
}

func startDialectIssuer(t *testing.T, dialect string) *dialectIssuer {
	t.Helper()
	d, err := iso.LookupDialect(dialect)
	require.NoError(t, err)
	return startIssuerIn(t, d, nil)
}

// startIssuerIn is startDialectIssuer for any dialect; edit, when set,
// changes each answer to a request before it is packed.
func startIssuerIn(t *testing.T, d iso.Dialect, edit func(*iso8583.Message)) *dialectIssuer {
	t.Helper()
	spec, err := d.Spec()
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	is := &dialectIssuer{d: d, spec: spec, ln: ln, seen: make(chan *iso8583.Message, 16), edit: edit}
	is.wg.Add(1)
	go is.accept(t)
	t.Cleanup(is.close)
	return is
}

// next is the next request the issuer saw.
func (is *dialectIssuer) next(t *testing.T) *iso8583.Message {
	t.Helper()
	select {
	case m := <-is.seen:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("the issuer got no request")
		return nil
	}
}

func (is *dialectIssuer) addr() string { return is.ln.Addr().String() }

func (is *dialectIssuer) close() {
	_ = is.ln.Close()
	is.mu.Lock()
	for _, c := range is.conn {
		_ = c.Close()
	}
	is.mu.Unlock()
	is.wg.Wait()
}

func (is *dialectIssuer) accept(t *testing.T) {
	defer is.wg.Done()
	for {
		c, err := is.ln.Accept()
		if err != nil {
			return
		}
		is.mu.Lock()
		is.conn = append(is.conn, c)
		is.mu.Unlock()
		is.wg.Add(1)
		go is.serve(t, c)
	}
}

// speak makes the connections accepted from now on speak d (a reload test
// changes the issuer's dialect).
func (is *dialectIssuer) speak(t *testing.T, d iso.Dialect) {
	t.Helper()
	spec, err := d.Spec()
	require.NoError(t, err)
	is.mu.Lock()
	is.d, is.spec = d, spec
	is.mu.Unlock()
}

func (is *dialectIssuer) serve(t *testing.T, c net.Conn) {
	defer is.wg.Done()
	is.mu.Lock()
	cur := &dialectIssuer{d: is.d, spec: is.spec, seen: is.seen, edit: is.edit} // this connection's
	is.mu.Unlock()
	cur.exchange(t, c)
}

func (is *dialectIssuer) exchange(t *testing.T, c net.Conn) {
	fr := iso.NewFrameReaderFraming(c, is.d.Framing, 8192)
	for {
		msg, err := fr.Next()
		if err != nil {
			return
		}
		var hdr []byte
		if is.d.Framing.Header == iso.HeaderTPDU {
			hdr = make([]byte, iso.TPDULen)
			iso.AnswerTPDU(hdr, fr.Header())
		}
		req := iso8583.NewMessage(is.spec)
		if err := req.Unpack(msg); err != nil {
			t.Errorf("issuer %s: request does not unpack in its dialect: %v", is.d.Name, err)
			return
		}
		resp, err := is.answer(req)
		if err != nil {
			t.Errorf("issuer %s: %v", is.d.Name, err)
			return
		}
		frame, err := is.d.Framing.AppendFrame(nil, hdr, resp)
		if err == nil {
			_, err = c.Write(frame)
		}
		if err != nil {
			return
		}
	}
}

func (is *dialectIssuer) answer(req *iso8583.Message) ([]byte, error) {
	mti, _ := req.GetMTI()
	netMgmt := mti[1] == '8'
	if !netMgmt {
		is.seen <- req
	}
	resp := iso8583.NewMessage(is.spec)
	resp.MTI(mti[:2] + string(mti[2]+1) + mti[3:])
	for id, f := range req.GetFields() {
		if id < 2 || id == 52 {
			continue
		}
		b, err := f.Bytes()
		if err == nil {
			err = resp.BinaryField(id, b)
		}
		if err != nil {
			return nil, fmt.Errorf("echo field %d: %w", id, err)
		}
	}
	approved := "00"
	if is.d.Version == 1993 {
		approved = "000"
	}
	if !netMgmt {
		if err := resp.Field(38, "AB1234"); err != nil {
			return nil, err
		}
	}
	if err := resp.Field(39, approved); err != nil {
		return nil, err
	}
	if is.edit != nil && !netMgmt {
		is.edit(resp)
	}
	return resp.Pack()
}

// text is a field's value as the tests compare it: a numeric's with its
// zeros, binary data (a PIN block) in hex.
func text(t *testing.T, m *iso8583.Message, id int) (string, bool) {
	t.Helper()
	f, ok := m.GetFields()[id]
	if !ok {
		return "", false
	}
	switch f.(type) {
	case *field.Binary, *field.Hex:
		b, err := f.Bytes()
		require.NoError(t, err)
		return strings.ToUpper(hex.EncodeToString(b)), true
	case *field.Numeric:
		b, err := f.Pack()
		require.NoError(t, err)
		return string(b), true
	}
	s, err := f.String()
	require.NoError(t, err)
	return s, true
}

// dialectRequest is an authorization in version v's layout: field id ->
// value (as text returns it).
func dialectRequest(v, stan int) map[int]string {
	f := map[int]string{
		2: "4111111111111111", 3: "000000", 4: "000000012345", 7: "1207182300",
		11: fmt.Sprintf("%06d", stan), 13: "1207", 14: "2812", 18: "5411", 32: "123456",
		37: fmt.Sprintf("%012d", stan), 41: "TERM0001", 42: "MERCHANT0000001",
		43: "CARDSWITCH TEST SHOP            PARIS FR", 49: "978", 52: "0102030405060708",
	}
	if v == 1993 {
		f[12] = "261207182300" // YYMMDDhhmmss
	} else {
		f[12], f[22], f[25] = "182300", "051", "00"
	}
	return f
}

// packIn packs fields (and mti) with dialect d's spec.
func packIn(t *testing.T, d iso.Dialect, mti string, fields map[int]string) []byte {
	t.Helper()
	spec, err := d.Spec()
	require.NoError(t, err)
	m := iso8583.NewMessage(spec)
	m.MTI(mti)
	for id, v := range fields {
		if id == 52 {
			b, err := hex.DecodeString(v)
			require.NoError(t, err)
			require.NoError(t, m.BinaryField(id, b))
			continue
		}
		require.NoError(t, m.Field(id, v), "field %d", id)
	}
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}

// dialectAcquirer is a connection to a listener speaking d.
type dialectAcquirer struct {
	d  iso.Dialect
	c  net.Conn
	fr *iso.FrameReader
}

func dialDialect(t *testing.T, addr string, d iso.Dialect) *dialectAcquirer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &dialectAcquirer{d: d, c: c, fr: iso.NewFrameReaderFraming(c, d.Framing, 8192)}
}

// acqTPDU is the TPDU the acquirers send: destination NII 0003, source 0001.
var acqTPDU = []byte{0x60, 0x00, 0x03, 0x00, 0x01}

func (a *dialectAcquirer) send(t *testing.T, msg []byte) {
	t.Helper()
	var hdr []byte
	if a.d.Framing.Header == iso.HeaderTPDU {
		hdr = acqTPDU
	}
	frame, err := a.d.Framing.AppendFrame(nil, hdr, msg)
	require.NoError(t, err)
	_, err = a.c.Write(frame)
	require.NoError(t, err)
}

// receive reads the next answer, checks its TPDU (the request's, NIIs
// swapped) and unpacks it with the dialect's spec.
func (a *dialectAcquirer) receive(t *testing.T) *iso8583.Message {
	t.Helper()
	require.NoError(t, a.c.SetReadDeadline(time.Now().Add(10*time.Second)))
	msg, err := a.fr.Next()
	require.NoError(t, err)
	if a.d.Framing.Header == iso.HeaderTPDU {
		assert.Equal(t, []byte{0x60, 0x00, 0x01, 0x00, 0x03}, a.fr.Header(), "answer TPDU: NIIs swapped")
	}
	spec, err := a.d.Spec()
	require.NoError(t, err)
	m := iso8583.NewMessage(spec)
	require.NoError(t, m.Unpack(msg))
	return m
}

// dialectSwitch runs a switch whose listen.dialect is acq and whose one
// issuer speaks the issuer's dialect.
func dialectSwitch(t *testing.T, acq string, is *dialectIssuer) *running {
	t.Helper()
	return dialectSwitchWith(t, acq, is, "")
}

// TestDialectsEndToEnd: an authorization from an acquirer in each built-in
// dialect reaches an issuer in another with every field's value, and the
// acquirer gets the issuer's answer in its own dialect with its own echo
// fields.
func TestDialectsEndToEnd(t *testing.T) {
	pairs := [][2]string{
		{"iso87ascii", "iso87binary"},
		{"iso87ascii-ascii4", "iso87ebcdic"},
		{"iso87binary", "iso87ascii"},
		{"iso87binary-tpdu", "iso93ascii"},
		{"iso93ascii", "iso87binary-tpdu"},
		{"iso93binary", "iso87ascii-ascii4"},
		{"iso87ebcdic", "iso93binary"},
		// TPDU both ways, within 1987.
		{"iso87binary-tpdu", "iso87ebcdic"},
		{"iso87ebcdic", "iso87binary-tpdu"},
	}
	for i, p := range pairs {
		t.Run(p[0]+"->"+p[1], func(t *testing.T) {
			is := startDialectIssuer(t, p[1])
			sw := dialectSwitch(t, p[0], is)
			d, err := iso.LookupDialect(p[0])
			require.NoError(t, err)
			acq := dialDialect(t, sw.addr, d)
			sent := dialectRequest(d.Version, 100+i)
			acq.send(t, packIn(t, d, versionMTI(d.Version, "0100"), sent))
			seen := is.next(t)
			checkIssuerSaw(t, seen, is.d, d, sent)
			got := acq.receive(t)
			checkAcquirerGot(t, got, d, sent)
			for side, name := range map[string]string{metrics.SideAcquirer: "listen", metrics.SideIssuer: "bank"} {
				dn := map[string]string{metrics.SideAcquirer: p[0], metrics.SideIssuer: p[1]}[side]
				e := sw.Metrics().Edge(side, name, dn)
				if !dialectCanonical(t, dn) {
					assert.Positive(t, testutil.ToFloat64(e.Translated), "%s %s translations counted", side, dn)
				}
				assert.Zero(t, testutil.ToFloat64(e.TranslateErrors))
			}
		})
	}
}

func dialectCanonical(t *testing.T, name string) bool {
	d, err := iso.LookupDialect(name)
	require.NoError(t, err)
	return d.Canonical()
}

// versionMTI is a 1987 MTI in version v.
func versionMTI(v int, mti string) string {
	if v == 1993 {
		return "1" + mti[1:]
	}
	return mti
}

// versionsDiffer: the fields whose layout differs between 1987 and 1993,
// converted by the translation rules; they are not compared by value
// across versions.
// 1987's 13 (MMDD) folds into 1993's 12 (YYMMDDhhmmss).
var versionsDiffer = map[int]bool{12: true, 13: true, 22: true, 24: true, 25: true}

// checkDateTime: 1987's 12 (hhmmss) and 13 (MMDD) and 1993's 12
// (YYMMDDhhmmss) name the same moment on either side of the switch.
func checkDateTime(t *testing.T, seen *iso8583.Message, issuer iso.Dialect, sent map[int]string) {
	t.Helper()
	got12, _ := text(t, seen, 12)
	if issuer.Version == 1993 {
		require.Len(t, got12, 12, "1993's 12")
		assert.Equal(t, sent[13]+sent[12], got12[2:], "1993's 12 is 13 then 12")
		return
	}
	got13, _ := text(t, seen, 13)
	assert.Equal(t, sent[12][6:], got12, "1987's 12 is the time of 1993's 12")
	assert.Equal(t, sent[12][2:6], got13, "1987's 13 is the date of 1993's 12")
}

func checkIssuerSaw(t *testing.T, seen *iso8583.Message, issuer, acq iso.Dialect, sent map[int]string) {
	t.Helper()
	mti, _ := seen.GetMTI()
	assert.Equal(t, versionMTI(issuer.Version, "0100"), mti, "the issuer's MTI")
	cross := issuer.Version != acq.Version
	var ids []int
	for id := range seen.GetFields() {
		if id > 1 {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	if cross {
		checkDateTime(t, seen, issuer, sent)
	}
	for _, id := range ids {
		got, _ := text(t, seen, id)
		want, ok := sent[id]
		switch {
		case cross && versionsDiffer[id]:
			assert.NotEmpty(t, got, "field %d converted", id)
		case !ok:
			t.Errorf("the issuer saw field %d (%q), which the acquirer did not send", id, got)
		case id == 11:
			assert.Len(t, got, 6, "the link STAN")
		default:
			assert.Equal(t, want, got, "the issuer saw field %d", id)
		}
	}
	for id := range sent {
		if _, ok := seen.GetFields()[id]; !ok && !(cross && versionsDiffer[id]) {
			t.Errorf("field %d did not reach the issuer", id)
		}
	}
}

func checkAcquirerGot(t *testing.T, got *iso8583.Message, d iso.Dialect, sent map[int]string) {
	t.Helper()
	mti, _ := got.GetMTI()
	assert.Equal(t, versionMTI(d.Version, "0110"), mti)
	code, _ := text(t, got, 39)
	if d.Version == 1993 {
		assert.Equal(t, "000", code)
	} else {
		assert.Equal(t, "00", code)
	}
	auth, _ := text(t, got, 38)
	assert.Equal(t, "AB1234", auth)
	for id, want := range sent {
		if id == 52 {
			continue // the issuer does not echo the PIN block
		}
		v, ok := text(t, got, id)
		assert.True(t, ok, "field %d echoed", id)
		assert.Equal(t, want, v, "the acquirer got its own field %d back", id)
	}
}

// userDialects declares the test's user dialects (testdata/wide43.json:
// iso87binary whose field 43 is LL 99; narrow43.json: LL 20): wide43 and
// narrow43 behind a binary2 length, bcd (wide43's spec) behind a bcd2 one.
func userDialects(t *testing.T) string {
	t.Helper()
	spec, err := filepath.Abs(filepath.Join("testdata", "wide43.json"))
	require.NoError(t, err)
	narrow, err := filepath.Abs(filepath.Join("testdata", "narrow43.json"))
	require.NoError(t, err)
	return fmt.Sprintf(`
dialects:
  - name: wide43
    spec: %q
    version: 1987
  - name: bcd
    spec: %q
    version: 1987
    length: bcd2
  - name: narrow43
    spec: %q
    version: 1987
`, spec, spec, narrow)
}

// userDialect is a user dialect of userDialects, as the switch has it.
func userDialect(t *testing.T, name string) iso.Dialect {
	t.Helper()
	cfg, err := config.LoadBytes("d.yaml", []byte(minimalYAML+userDialects(t)))
	require.NoError(t, err)
	d, ok := cfg.LookupDialect(name)
	require.True(t, ok)
	return d
}

const minimalYAML = `
issuers:
  - name: bank
    endpoints: [127.0.0.1:1]
routes:
  - bin: "4"
    issuer: bank
`

// TestDialectHostileFraming: a frame that breaks its listener's framing
// (ascii4 with a non-digit, bcd2 with a nibble above 9, a frame shorter
// than its TPDU, a TPDU that is not one) closes the connection, and is
// counted per listener and dialect.
func TestDialectHostileFraming(t *testing.T) {
	for _, tt := range []struct {
		name, dialect string
		frame         []byte
	}{
		{"ascii4 non-digit", "iso87ascii-ascii4", []byte("00x1abcd")},
		{"bcd2 nibble above 9", "bcd", []byte{0x0A, 0x01, 0x60, 0x00}},
		{"shorter than its TPDU", "iso87binary-tpdu", []byte{0x00, 0x03, 0x60, 0x00, 0x03}},
		{"not a TPDU", "iso87binary-tpdu", []byte{0x00, 0x05, 0x61, 0, 0, 0, 0}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			is := startDialectIssuer(t, "iso87ascii")
			sw := dialectSwitchWith(t, tt.dialect, is, userDialects(t))
			c, err := net.Dial("tcp", sw.addr)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			_, err = c.Write(tt.frame)
			require.NoError(t, err)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
			n, err := c.Read(make([]byte, 1))
			assert.Zero(t, n, "no answer")
			assert.True(t, errors.Is(err, io.EOF) || isReset(err), "the switch closes the connection: %v", err)
			e := sw.Metrics().Edge(metrics.SideAcquirer, "listen", tt.dialect)
			assert.Equal(t, 1.0, testutil.ToFloat64(e.FramingErrors))
		})
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// dialectSwitchWith is dialectSwitch with more config (user dialects).
func dialectSwitchWith(t *testing.T, acq string, is *dialectIssuer, more string) *running {
	t.Helper()
	return startSwitch(t, fmt.Sprintf(`
listen:
  dialect: %s
issuers:
%s    dialect: %s
routes:
  - bin: "4"
    issuer: bank
%s`, acq, issuerYAML("bank", "5s", is.addr()), is.d.Name, more), "bank")
}

// TestDialectTranslateErrorAnswers30: a request with a field the
// canonical form cannot hold (a 60-character field 43 from a dialect where
// it is LL 99; canonical 43 is 40 characters) is answered 30 (format error)
// in the acquirer's dialect with its echo fields, counted, and never
// reaches the issuer.
func TestDialectTranslateErrorAnswers30(t *testing.T) {
	is := startDialectIssuer(t, "iso87ascii")
	db := filepath.Join(t.TempDir(), "j.db")
	sw := dialectSwitchWith(t, "wide43", is, userDialects(t)+"journal:\n  path: "+db+"\n")
	d := userDialect(t, "wide43")
	acq := dialDialect(t, sw.addr, d)
	sent := dialectRequest(1987, 7)
	sent[43] = strings.Repeat("W", 60)
	acq.send(t, packIn(t, d, "0100", sent))
	got := acq.receive(t)
	mti, _ := got.GetMTI()
	assert.Equal(t, "0110", mti)
	code, _ := text(t, got, 39)
	assert.Equal(t, "30", code)
	for _, id := range []int{11, 37, 41} {
		v, _ := text(t, got, id)
		assert.Equal(t, sent[id], v, "field %d echoed", id)
	}
	e := sw.Metrics().Edge(metrics.SideAcquirer, "listen", "wide43")
	assert.Equal(t, 1.0, testutil.ToFloat64(e.TranslateErrors))
	assert.Equal(t, int64(1), sw.Stats().Declined30)

	// The same request with a 40-character 43 goes through.
	sent = dialectRequest(1987, 8)
	acq.send(t, packIn(t, d, "0100", sent))
	seen := is.next(t)
	checkIssuerSaw(t, seen, is.d, d, sent)
	checkAcquirerGot(t, acq.receive(t), d, sent)

	// The journal names the field, and records both dialects.
	require.NoError(t, sw.FlushJournal(context.Background()))
	es := entriesByRRN(t, db)
	refused := es[""] // a refusal that failed translation journals its MTI and STAN only
	require.Len(t, refused, 1)
	assert.Equal(t, "000007", refused[0].STAN)
	assert.Equal(t, "30", refused[0].ResponseCode)
	assert.Contains(t, refused[0].Reason, "does not translate from dialect wide43")
	assert.Contains(t, refused[0].Reason, "field 43")
	assert.Equal(t, "wide43", refused[0].AcquirerDialect)
	relayed := es[sent37(8)]
	require.Len(t, relayed, 1)
	assert.Equal(t, "wide43", relayed[0].AcquirerDialect)
	assert.Equal(t, "", relayed[0].IssuerDialect, "iso87ascii is recorded as \"\"")
}

func sent37(stan int) string { return fmt.Sprintf("%012d", stan) }

// TestDialectJournalRecordsBoth: an entry of translated traffic records
// the acquirer's and the issuer's dialect.
func TestDialectJournalRecordsBoth(t *testing.T) {
	is := startDialectIssuer(t, "iso87ebcdic")
	db := filepath.Join(t.TempDir(), "j.db")
	sw := dialectSwitchWith(t, "iso87binary-tpdu", is, "journal:\n  path: "+db+"\n")
	d, err := iso.LookupDialect("iso87binary-tpdu")
	require.NoError(t, err)
	acq := dialDialect(t, sw.addr, d)
	sent := dialectRequest(1987, 9)
	acq.send(t, packIn(t, d, "0100", sent))
	checkAcquirerGot(t, acq.receive(t), d, sent)
	require.NoError(t, sw.FlushJournal(context.Background()))
	es := entriesByRRN(t, db)[sent37(9)]
	require.Len(t, es, 1)
	assert.Equal(t, "iso87binary-tpdu", es[0].AcquirerDialect)
	assert.Equal(t, "iso87ebcdic", es[0].IssuerDialect)
}

// TestDialectExtraListener: a listeners[] entry takes acquirers in its own
// dialect beside listen.address's, through the same switch to the same
// issuer.
func TestDialectExtraListener(t *testing.T) {
	is := startDialectIssuer(t, "iso87ebcdic")
	sw := dialectSwitchWith(t, "iso87ascii", is, `
listeners:
  - name: pos
    address: 127.0.0.1:0
    dialect: iso87binary-tpdu
`)
	addr := sw.ListenerAddr("pos")
	require.NotNil(t, addr)
	d, err := iso.LookupDialect("iso87binary-tpdu")
	require.NoError(t, err)
	pos := dialDialect(t, addr.String(), d)
	sent := dialectRequest(1987, 21)
	pos.send(t, packIn(t, d, "0100", sent))
	checkIssuerSaw(t, is.next(t), is.d, d, sent)
	checkAcquirerGot(t, pos.receive(t), d, sent)
	assert.Positive(t, testutil.ToFloat64(sw.Metrics().Edge(metrics.SideAcquirer, "pos", d.Name).Translated))

	main := dial(t, sw.addr) // listen.address still speaks iso87ascii
	resp := send(t, main, auth("4111111111111111", 100, 22))
	assert.Equal(t, "00", str(t, resp, 39))
	is.next(t)
}

// TestDialectUntranslatableAnswer: an issuer answer that does not
// translate to the canonical form (a 60-character field 43) is an
// unreadable answer: the acquirer gets 96, counted as a translate error.
func TestDialectUntranslatableAnswer(t *testing.T) {
	d := userDialect(t, "wide43")
	is := startIssuerIn(t, d, func(m *iso8583.Message) {
		_ = m.Field(43, strings.Repeat("W", 60))
	})
	sw := startSwitch(t, fmt.Sprintf(`
issuers:
%s    dialect: wide43
routes:
  - bin: "4"
    issuer: bank
%s`, issuerYAML("bank", "5s", is.addr()), userDialects(t)), "bank")
	c := dial(t, sw.addr)
	resp := send(t, c, auth("4111111111111111", 100, 31))
	assert.Equal(t, "96", str(t, resp, 39))
	assert.Equal(t, "000031", wire(t, resp, 11))
	is.next(t)
	assert.Equal(t, 1.0, testutil.ToFloat64(sw.Metrics().Edge(metrics.SideIssuer, "bank", "wide43").TranslateErrors))
}

// TestDialectIssuerCannotExpress: a request whose field the issuer's
// dialect cannot hold (a 40-character 43 for an LL 20 one) is answered 30,
// the journal naming the field; the issuer never sees it.
func TestDialectIssuerCannotExpress(t *testing.T) {
	d := userDialect(t, "narrow43")
	is := startIssuerIn(t, d, nil)
	db := filepath.Join(t.TempDir(), "j.db")
	sw := startSwitch(t, fmt.Sprintf(`
issuers:
%s    dialect: narrow43
routes:
  - bin: "4"
    issuer: bank
journal:
  path: %s
%s`, issuerYAML("bank", "5s", is.addr()), db, userDialects(t)), "bank")
	c := dial(t, sw.addr)
	r := auth("4111111111111111", 100, 41)
	r.Fields = map[int]string{43: strings.Repeat("N", 40)}
	resp := send(t, c, r)
	assert.Equal(t, "30", str(t, resp, 39))
	r = auth("4111111111111111", 100, 42)
	r.Fields = map[int]string{43: "NARROW SHOP PARIS FR" + strings.Repeat(" ", 20)}
	// A fixed text field's trailing spaces are its padding: going to a
	// variable field, the value is carried without them (README Dialects).
	assert.Equal(t, "00", str(t, send(t, c, r), 39), "43's padding is not its value")
	got43, err := is.next(t).GetString(43)
	require.NoError(t, err)
	assert.Equal(t, "NARROW SHOP PARIS FR", got43)
	select {
	case m := <-is.seen:
		t.Fatalf("the issuer got a request it cannot hold: %v", m)
	default:
	}
	require.NoError(t, sw.FlushJournal(context.Background()))
	es := entriesByRRN(t, db)[sent37(41)]
	require.Len(t, es, 1)
	assert.Contains(t, es[0].Reason, "does not translate to the issuer's dialect")
	assert.Contains(t, es[0].Reason, "field 43")
	assert.Equal(t, "narrow43", es[0].IssuerDialect)
	assert.Equal(t, int64(1), sw.Stats().Declined30)
}

// TestDialectReloadIssuer: a reload that changes an issuer's dialect
// replaces its links, which then speak the new one; nothing else needs a
// restart.
func TestDialectReloadIssuer(t *testing.T) {
	is := startDialectIssuer(t, "iso87ascii")
	conf := func(dialect string) string {
		return fmt.Sprintf(`
listen:
  address: 127.0.0.1:0
issuers:
%s    dialect: %s
routes:
  - bin: "4"
    issuer: bank
`, issuerYAML("bank", "5s", is.addr()), dialect)
	}
	path := writeConfig(t, conf("iso87ascii"))
	sw := startSwitchFile(t, path, "bank")
	c := dial(t, sw.addr)
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 51)), 39))
	is.next(t)

	binary, err := iso.LookupDialect("iso87binary")
	require.NoError(t, err)
	is.speak(t, binary)
	require.NoError(t, os.WriteFile(path, []byte(conf("iso87binary")), 0o600))
	res, err := sw.Reload(context.Background())
	require.NoError(t, err)
	assert.Empty(t, res.Restart)
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 52)), 39))
	seen := is.next(t)
	v, _ := text(t, seen, 41)
	assert.Equal(t, "TERM0001", v, "the issuer read the request in its new dialect")
	assert.Positive(t, testutil.ToFloat64(sw.Metrics().Edge(metrics.SideIssuer, "bank", "iso87binary").Translated))
}

// TestDialect1993ActionCodeEndToEnd: a 1993 issuer's action code that has
// no 1987 code of its own (103, a decline: canonical 05) reaches a 1993
// acquirer as the issuer sent it, through the transaction's Carry, which
// the issuer link fills from its one translation of the answer.
func TestDialect1993ActionCodeEndToEnd(t *testing.T) {
	issD, err := iso.LookupDialect("iso93binary")
	require.NoError(t, err)
	is := startIssuerIn(t, issD, func(m *iso8583.Message) { _ = m.Field(39, "103") })
	sw := dialectSwitch(t, "iso93ascii", is)
	d, err := iso.LookupDialect("iso93ascii")
	require.NoError(t, err)
	acq := dialDialect(t, sw.addr, d)
	sent := dialectRequest(1993, 41)
	acq.send(t, packIn(t, d, "1100", sent))
	is.next(t)
	got := acq.receive(t)
	code, _ := text(t, got, 39)
	assert.Equal(t, "103", code, "the issuer's own action code")
	v, _ := text(t, got, 11)
	assert.Equal(t, sent[11], v)
}
