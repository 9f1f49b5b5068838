package switchd_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An acquirer's own reversal (0400, 0420, 0421) names its original in 90
// by the acquirer's STAN; the issuer saw the original under its link
// STAN. The switch puts the link STAN in the 90 it relays, and the
// acquirer's back in the answer.

// echoIssuer answers every request 00, echoing its fields (90 among
// them, as issuers that echo it do), and keeps every frame it receives.
type echoIssuer struct {
	issuerConns
	sc      *iso.Scanner
	frames  [][]byte
	changed chan struct{}
}

func startEchoIssuer(t *testing.T) *echoIssuer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	e := &echoIssuer{issuerConns: issuerConns{ln: ln}, sc: sc, changed: make(chan struct{}, 1)}
	e.start(e.serve)
	t.Cleanup(e.close)
	return e
}

func (e *echoIssuer) serve(c net.Conn) {
	fr := iso.NewFrameReader(c, 65535)
	for {
		body, err := fr.Next()
		if err != nil {
			return
		}
		body = append([]byte(nil), body...)
		var v iso.View
		if e.sc.Scan(body, &v) != nil {
			continue
		}
		var resp []byte
		if v.MTI()[1] == '8' {
			resp, _ = iso.NetMgmtResponse(iso.Spec87(), body, "00")
		} else {
			e.mu.Lock()
			e.frames = append(e.frames, body)
			e.mu.Unlock()
			select {
			case e.changed <- struct{}{}:
			default:
			}
			resp, _ = iso.BuildResponse(iso.Spec87(), &v, "00")
		}
		if resp != nil && iso.WriteFrame(c, resp) != nil {
			return
		}
	}
}

// wait returns the frames received once there are n.
func (e *echoIssuer) wait(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.NewTimer(lostDeadline)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		fs := append([][]byte(nil), e.frames...)
		e.mu.Unlock()
		if len(fs) >= n {
			return fs
		}
		select {
		case <-e.changed:
		case <-deadline.C:
			t.Fatalf("issuer: gave up waiting for %d requests; saw %d", n, len(fs))
		}
	}
}

func (e *echoIssuer) close() { e.stop() }

// scanned is frame scanned.
func scanned(t *testing.T, frame []byte) *iso.View {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	v := new(iso.View)
	require.NoError(t, sc.Scan(frame, v))
	return v
}

// acqReversal is the acquirer's 0420 (STAN stan) of the 0100 original,
// as the acquirer packed it: 90 names it by the acquirer's own STAN and
// 7, and it carries the original's RRN and terminal.
func acqReversal(t *testing.T, original []byte, stan int) []byte {
	t.Helper()
	o := scanned(t, original)
	r := auth(panApprove, 100, stan)
	r.MTI, r.RRN = "0420", string(o.Field(37))
	r.Fields = map[int]string{90: "0100" + string(o.Field(11)) + string(o.Field(7)) +
		fmt.Sprintf("%011s%011s", "", "")}
	r.Fields[90] = strings.ReplaceAll(r.Fields[90], " ", "0")
	return pack(t, r)
}

// The issuer receives the acquirer's 0420 with 90 naming the original by
// the STAN and 7 it saw on the 0100; the acquirer gets the 0430 with its
// own 11 and 90 back, byte-exact.
func TestAcquirerReversalNamesTheLinkSTAN(t *testing.T) {
	iss := startEchoIssuer(t)
	sw := startSwitch(t, lostYAML(journalPath(t), iss.ln.Addr().String(), "5s", ""), "bank")
	c := dialRaw(t, sw.addr)
	original := pack(t, auth(panApprove, 100, 424242))
	c.write(t, original)
	require.Equal(t, "00", str(t, c.read(t), 39))
	seen := scanned(t, iss.wait(t, 1)[0])
	linkSTAN, linkTime := string(seen.Field(11)), string(seen.Field(7))
	require.NotEqual(t, "424242", linkSTAN, "the test needs a link STAN other than the acquirer's")

	rev := acqReversal(t, original, 424243)
	c.write(t, rev)
	ans := c.read(t)
	require.Equal(t, "0430", mti(t, ans))
	assert.Equal(t, "00", str(t, ans, 39))
	sent := scanned(t, rev)
	assert.Equal(t, string(sent.Field(90)), wire(t, ans, 90), "the acquirer's own 90 back")
	assert.Equal(t, string(sent.Field(11)), wire(t, ans, 11), "the acquirer's own 11 back")

	got := scanned(t, iss.wait(t, 2)[1])
	require.Equal(t, "0420", string(got.MTI()))
	f90 := string(got.Field(90))
	require.Len(t, f90, 42)
	assert.Equal(t, "0100", f90[:4])
	assert.Equal(t, linkSTAN, f90[4:10], "90 names the STAN the issuer saw on the original")
	assert.Equal(t, linkTime, f90[10:20], "and its 7 as the issuer saw it")
	assert.Equal(t, string(sent.Field(90))[20:], f90[20:], "32 and 33 as sent")
}

// A reversal of a request the switch never relayed (here: one it never
// saw) is answered 25 by the switch and not forwarded: no issuer holds
// anything for it.
func TestAcquirerReversalOfUnknownOriginalIs25(t *testing.T) {
	iss := startEchoIssuer(t)
	sw := startSwitch(t, lostYAML(journalPath(t), iss.ln.Addr().String(), "5s", ""), "bank")
	c := dialRaw(t, sw.addr)
	never := pack(t, auth(panApprove, 100, 515151))
	rev := acqReversal(t, never, 515152)
	c.write(t, rev)
	ans := c.read(t)
	require.Equal(t, "0430", mti(t, ans))
	assert.Equal(t, "25", str(t, ans, 39))
	assert.Equal(t, string(scanned(t, rev).Field(90)), wire(t, ans, 90), "its 90 echoed")

	// The next request reaches the issuer first: the reversal never went.
	c.write(t, pack(t, auth(panApprove, 100, 515153)))
	require.Equal(t, "00", str(t, c.read(t), 39))
	fs := iss.wait(t, 1)
	require.Len(t, fs, 1)
	assert.Equal(t, "0100", string(scanned(t, fs[0]).MTI()))
}

// A reversal whose original is older than the window (by the date-time
// its 90 names) cannot be known either way: it is relayed as the acquirer
// sent it, for the issuer to judge, never refused (the issuer may hold
// the cardholder's funds).
func TestAcquirerReversalOfOldOriginalIsRelayed(t *testing.T) {
	iss := startEchoIssuer(t)
	sw := startSwitch(t, lostYAML(journalPath(t), iss.ln.Addr().String(), "5s", ""), "bank")
	c := dialRaw(t, sw.addr)
	old := time.Now().UTC().Add(-3 * time.Hour).Format("0102150405")
	rev := auth(panApprove, 100, 717172)
	rev.MTI = "0420"
	rev.Fields = map[int]string{90: "0100717171" + old + strings.Repeat("0", 22)}
	c.write(t, pack(t, rev))
	ans := c.read(t)
	require.Equal(t, "0430", mti(t, ans))
	assert.Equal(t, "00", str(t, ans, 39), "the issuer's answer")
	fs := iss.wait(t, 1)
	require.Len(t, fs, 1)
	assert.Equal(t, rev.Fields[90], string(scanned(t, fs[0]).Field(90)), "90 as the acquirer sent it")
}

// A reversal of a request the switch answered itself (91: its issuer had
// no live link) is answered 25: the original never reached an issuer.
func TestAcquirerReversalOfOriginalAnsweredBySwitchIs25(t *testing.T) {
	iss := startEchoIssuer(t)
	sw := startSwitch(t, lostYAML(journalPath(t), iss.ln.Addr().String(), "5s", deadAddr(t)), "bank")
	c := dialRaw(t, sw.addr)
	original := auth(panDown, 100, 616161)
	c.write(t, pack(t, original))
	require.Equal(t, "91", str(t, c.read(t), 39), "issuer down: the switch answers")
	o := scanned(t, pack(t, original))
	rev := auth(panDown, 100, 616162)
	rev.MTI, rev.RRN = "0420", original.RRN
	rev.Fields = map[int]string{90: "0100616161" + string(o.Field(7)) + strings.Repeat("0", 22)}
	c.write(t, pack(t, rev))
	ans := c.read(t)
	require.Equal(t, "0430", mti(t, ans))
	assert.Equal(t, "25", str(t, ans, 39))
}

// After a restart the window is refilled from the journal, which keeps no
// link STANs: a reversal of an original relayed by the previous run is
// relayed with 90 as the acquirer sent it (not refused: the issuer may
// hold funds for it).
func TestAcquirerReversalAfterRestartIsRelayedUnchanged(t *testing.T) {
	iss := startEchoIssuer(t)
	path := journalPath(t)
	first := startSwitch(t, lostYAML(path, iss.ln.Addr().String(), "5s", ""), "bank")
	c := dialRaw(t, first.addr)
	original := pack(t, auth(panApprove, 100, 717171))
	c.write(t, original)
	require.Equal(t, "00", str(t, c.read(t), 39))
	first.stop()

	second := startSwitch(t, lostYAML(path, iss.ln.Addr().String(), "5s", ""), "bank")
	c = dialRaw(t, second.addr)
	rev := acqReversal(t, original, 717172)
	c.write(t, rev)
	ans := c.read(t)
	require.Equal(t, "0430", mti(t, ans))
	assert.Equal(t, "00", str(t, ans, 39))
	got := scanned(t, iss.wait(t, 2)[1])
	require.Equal(t, "0420", string(got.MTI()))
	assert.Equal(t, string(scanned(t, rev).Field(90)), string(got.Field(90)))
}

// An acquirer's reversal the issuer does not answer in time is stored and
// delivered by the switch with the same 90: the original's link STAN,
// on every repeat.
func TestStoredAcquirerReversalKeepsTheLinkSTAN(t *testing.T) {
	iss := startHoldIssuer(t)
	iss.mu.Lock()
	iss.approve = true
	iss.mu.Unlock()
	path := journalPath(t)
	sw := startSwitch(t, lostYAML(path, iss.ln.Addr().String(), "200ms", ""), "bank")
	c := dialRaw(t, sw.addr)
	original := pack(t, auth(panApprove, 100, 818181))
	c.write(t, original)
	require.Equal(t, "00", str(t, c.read(t), 39))
	iss.mu.Lock()
	seen := scanned(t, iss.auths[0])
	iss.mu.Unlock()

	rev := acqReversal(t, original, 818182)
	c.write(t, rev)
	ans := c.read(t)
	require.Equal(t, "0430", mti(t, ans), "stored: the switch answers")
	assert.Equal(t, "00", str(t, ans, 39))
	assert.Equal(t, string(scanned(t, rev).Field(90)), wire(t, ans, 90), "the acquirer's own 90 back")
	advices := iss.waitAdvices(t, "the reversal repeated", func(a [][]byte, _ int) bool { return len(a) >= 2 })
	iss.release()
	iss.waitAdvices(t, "an acknowledged repeat", func(_ [][]byte, acked int) bool { return acked >= 1 })
	for i, a := range advices {
		f90 := string(scanned(t, a).Field(90))
		require.Len(t, f90, 42)
		assert.Equal(t, string(seen.Field(11)), f90[4:10], "attempt %d: the original's link STAN", i)
		assert.Equal(t, string(seen.Field(7)), f90[10:20], "attempt %d: its 7", i)
	}
	awaitNoReversalsOwed(t, path)
}
