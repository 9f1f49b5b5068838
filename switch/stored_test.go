package switchd_test

import (
	"bytes"
	"database/sql"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The stored-message tests: advices and reversals owed to an issuer are
// kept encrypted (AES-256-GCM) in the journal and erased once the issuer
// acknowledges them; the journal's files are private to the switch's user.

const (
	advicePAN    = "4111111111111111"
	adviceCVV    = "CVV2=987;CVC=654"
	adviceExpiry = "3108"
)

// holdIssuer is an issuer that answers sign-ons and echoes but ignores
// every advice, 0420, 0421, 0120 and 0121 (and every authorization: they
// time out, unless approve) until release is called, or answers them with
// a wrong field 90 (wrong90); it keeps every advice it receives.
type holdIssuer struct {
	issuerConns
	sc       *iso.Scanner
	released bool
	wrong90  bool // until released, 0420s get an 0430 with another field 90
	approve  bool // 0100s get an 0110 with 39 = 00 instead of no answer
	auths    [][]byte
	advices  [][]byte
	acked    int
	changed  chan struct{}
}

func startHoldIssuer(t *testing.T) *holdIssuer {
	t.Helper()
	return startHoldIssuerAt(t, "127.0.0.1:0")
}

// startHoldIssuerAt is startHoldIssuer listening on addr.
func startHoldIssuerAt(t *testing.T, addr string) *holdIssuer {
	t.Helper()
	ln := listenAt(t, addr)
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	h := &holdIssuer{issuerConns: issuerConns{ln: ln}, sc: sc, changed: make(chan struct{}, 1)}
	h.start(h.serve)
	t.Cleanup(h.close)
	return h
}

func (h *holdIssuer) serve(c net.Conn) {
	fr := iso.NewFrameReader(c, 65535)
	for {
		body, err := fr.Next()
		if err != nil {
			return
		}
		if resp := h.handle(append([]byte(nil), body...)); resp != nil {
			if iso.WriteFrame(c, resp) != nil {
				return
			}
		}
	}
}

// handle returns the answer to body, nil for none.
func (h *holdIssuer) handle(body []byte) []byte {
	var v iso.View
	if h.sc.Scan(body, &v) != nil {
		return nil
	}
	switch string(v.MTI()) {
	case "0800":
		resp, _ := iso.NetMgmtResponse(iso.Spec87(), body, "00")
		return resp
	case "0100":
		h.mu.Lock()
		approve := h.approve
		if approve {
			h.auths = append(h.auths, body)
		}
		h.mu.Unlock()
		if approve {
			resp, _ := iso.BuildResponse(iso.Spec87(), &v, "00")
			return resp
		}
	case "0420", "0421", "0120", "0121":
		h.mu.Lock()
		h.advices = append(h.advices, body)
		answer, wrong := h.released, h.wrong90
		if answer {
			h.acked++
		}
		h.mu.Unlock()
		h.notify()
		switch {
		case answer:
			return answer0430(&v, nil)
		case wrong:
			return answer0430(&v, []byte("0100999999"+strings.Repeat("0", 32)))
		}
	}
	return nil
}

// answer0430 answers a reversal or advice (or its repeat) 0430 with 39 =
// 00, with field 90 = original when not nil (an issuer's wrong echo).
func answer0430(v *iso.View, original []byte) []byte {
	resp, err := iso.BuildResponse(iso.Spec87(), v, "00")
	if err != nil {
		return nil
	}
	m := iso.NewMessage(iso.Spec87())
	if m.Unpack(resp) != nil {
		return nil
	}
	mti := v.MTI()
	m.MTI(string(mti[:2]) + "30") // a repeat's answer too, as ISO 8583 and jPOS answer it
	if original != nil && m.Field(90, string(original)) != nil {
		return nil
	}
	resp, _ = m.Pack()
	return resp
}

func (h *holdIssuer) notify() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

func (h *holdIssuer) release() {
	h.mu.Lock()
	h.released = true
	h.mu.Unlock()
}

// waitAdvices waits until cond holds on the 0420s received and the number
// answered.
func (h *holdIssuer) waitAdvices(t *testing.T, what string, cond func(advices [][]byte, acked int) bool) [][]byte {
	t.Helper()
	deadline := time.NewTimer(lostDeadline)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		advices, acked := append([][]byte(nil), h.advices...), h.acked
		h.mu.Unlock()
		if cond(advices, acked) {
			return advices
		}
		select {
		case <-h.changed:
		case <-deadline.C:
			t.Fatalf("issuer: gave up waiting for %s; saw %d advices", what, len(advices))
		}
	}
}

func (h *holdIssuer) close() { h.stop() }

// adviceFrame is an acquirer's 0420 carrying field 48 (CVV2/CVC2, as some
// networks put it there) and field 14 (expiry).
func adviceFrame(t *testing.T, stan int) []byte {
	t.Helper()
	r := auth(advicePAN, 100, stan)
	r.MTI = "0420"
	m, err := r.Message()
	require.NoError(t, err)
	require.NoError(t, m.Field(48, adviceCVV))
	require.NoError(t, m.Field(14, adviceExpiry))
	b, err := m.Pack()
	require.NoError(t, err)
	return b
}

// secrets are byte strings that must never be found in a journal file:
// field 48's CVV2, the full PAN, and the expiry with the 4 bytes before it
// in the frame (4 digits alone could be any timestamp's).
func secrets(t *testing.T, frame []byte) [][]byte {
	t.Helper()
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(frame, &v))
	off := v.Offset(14)
	require.Equal(t, adviceExpiry, string(frame[off:off+4]))
	return [][]byte{[]byte("CVV2=987"), []byte("CVC=654"), []byte(advicePAN),
		append([]byte(nil), frame[off-4:off+4]...)}
}

// assertNotOnDisk scans every file under dir for each secret.
func assertNotOnDisk(t *testing.T, dir string, secrets [][]byte, when string) {
	t.Helper()
	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a log segment removed under the walk
		}
		require.NoError(t, err)
		files++
		for _, s := range secrets {
			assert.False(t, bytes.Contains(b, s), "%s: %q found in %s", when, s, p)
		}
		return nil
	}))
	require.NotZero(t, files)
}

// storedRows counts the rows of the reversals table, owed or not.
func storedRows(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM reversals").Scan(&n))
	return n
}

// An acquirer's advice with CVV2 in field 48 and an expiry in field 14, to
// an issuer that does not acknowledge it at first: while it is owed, no
// journal file (database, WAL, log segments) holds those bytes or the PAN;
// the stored advice reaches the issuer with 48 and 14 intact; after the
// 0430 its row is gone.
func TestStoredAdviceEncryptedAndErasedOnAck(t *testing.T) {
	iss := startHoldIssuer(t)
	dir := filepath.Join(t.TempDir(), "journal")
	path := filepath.Join(dir, "journal.db")
	sw := startSwitch(t, lostYAML(path, iss.ln.Addr().String(), "200ms", ""), "bank")
	raw := dialRaw(t, sw.addr)
	frame := adviceFrame(t, 420)
	raw.write(t, frame)
	resp := raw.read(t)
	require.Equal(t, "0430", mti(t, resp))
	require.Equal(t, "00", str(t, resp, 39))

	// The first 0420 is the acquirer's, relayed; the next are from the store.
	advices := iss.waitAdvices(t, "a retry from the store", func(a [][]byte, _ int) bool { return len(a) >= 2 })
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	var v iso.View
	require.NoError(t, sc.Scan(advices[1], &v))
	assert.Equal(t, adviceCVV, string(v.Field(48)), "field 48 delivered intact")
	assert.Equal(t, adviceExpiry, string(v.Field(14)), "field 14 delivered intact")
	assert.Equal(t, advicePAN, string(v.Field(2)), "a stored advice keeps its PAN")
	assert.Equal(t, "0421", string(v.MTI()), "sent once already (relayed): the store sends a repeat")
	assert.Equal(t, 1, storedRows(t, path), "owed")
	bad := secrets(t, frame)
	assertNotOnDisk(t, dir, bad, "while owed")

	iss.release()
	iss.waitAdvices(t, "an acknowledged retry", func(_ [][]byte, acked int) bool { return acked >= 1 })
	awaitNoReversalsOwed(t, path)
	sw.stop()
	assert.Zero(t, storedRows(t, path), "acknowledged: the row is erased")
	assertNotOnDisk(t, dir, bad, "after the ack")
}

// findLog returns the first record whose message starts with prefix.
func findLog(t *testing.T, buf *logBuffer, prefix string) map[string]any {
	t.Helper()
	for _, m := range logLines(t, buf.String()) {
		if msg, _ := m["msg"].(string); strings.HasPrefix(msg, prefix) {
			return m
		}
	}
	t.Fatalf("no log line %q in:\n%s", prefix, buf.String())
	return nil
}

// storedRow is the row of the stored message with RRN rrn as it is on disk.
func storedRow(t *testing.T, path, rrn string) (frame []byte, attempts int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.QueryRow("SELECT frame, attempts FROM reversals WHERE rrn = ?", rrn).Scan(&frame, &attempts))
	return frame, attempts
}

// The key beside the journal is created 0600 and announced by path, never
// by value. A stored message whose key is gone is reported at start by
// name and counted (log and metric), and stays stored, untouched, until
// its key is back; then it is delivered. Meanwhile the others flow.
func TestStoredMessageWhoseKeyIsGoneIsReportedAtStart(t *testing.T) {
	path := journalPath(t)
	keyPath := path + switchd.KeyFileSuffix
	addr := deadAddr(t)
	log1, buf1 := jsonLogger()
	sw := startSwitchLog(t, lostYAML(path, addr, "1s", ""), log1)
	st, err := os.Stat(keyPath)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), st.Mode().Perm())
	assert.Equal(t, keyPath, findLog(t, buf1, "journal key created")["key_file"])
	oldKey, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	adv := auth(panApprove, 100, 77)
	adv.MTI = "0420"
	require.Equal(t, "0430", mti(t, send(t, dial(t, sw.addr), adv)))
	sw.stop()
	frame, attempts := storedRow(t, path, adv.RRN)

	require.NoError(t, os.Remove(keyPath)) // the key is lost; a new one is created
	log2, buf2 := jsonLogger()
	sw2 := startSwitchLog(t, lostYAML(path, addr, "1s", "")+"admin:\n  address: 127.0.0.1:0\n", log2)
	line := findLog(t, buf2, "stored message cannot be decrypted")
	assert.Equal(t, "bank", line["issuer"])
	assert.Equal(t, adv.RRN, line["rrn"])
	assert.NotEmpty(t, line["stan"])
	assert.EqualValues(t, 1, findLog(t, buf2, "stored messages without their key")["count"])
	opsRequireMetric(t, opsScrape(t, sw2), "cardswitch_reversals_key_missing", nil, 1)
	// Another advice, stored with the new key, is attempted (the issuer is
	// down): the queue ran past the locked one, which it lists first.
	adv2 := auth(panApprove, 200, 78)
	adv2.MTI = "0420"
	require.Equal(t, "0430", mti(t, send(t, dial(t, sw2.addr), adv2)))
	require.Eventually(t, func() bool {
		_, n := storedRow(t, path, adv2.RRN)
		return n > 0
	}, lostDeadline, 10*time.Millisecond, "the new advice was never attempted")
	n, err := openJournal(t, path).ReversalCount()
	require.NoError(t, err)
	assert.Equal(t, 2, n, "both owed")
	sw2.stop()
	frame2, attempts2 := storedRow(t, path, adv.RRN)
	assert.Equal(t, frame, frame2, "untouched")
	assert.Equal(t, attempts, attempts2, "not attempted")
	for _, b := range []*logBuffer{buf1, buf2} {
		assert.NotContains(t, b.String(), strings.TrimSpace(string(oldKey)), "a key in the log")
	}

	// The old key back, on a line after the new one: delivered.
	newKey, err := os.ReadFile(keyPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyPath, append(newKey, oldKey...), 0o600))
	_, log := startWatchedSim(t, config.Simulator{Name: "bank", Listen: addr})
	startSwitch(t, lostYAML(path, addr, "1s", ""))
	log.wait(t, "both advices", func(rs []issuersim.Request) bool {
		seen := map[string]bool{}
		for _, r := range rs {
			seen[r.MTI+"/"+r.RRN] = true
		}
		return seen["0420/"+adv.RRN] && seen["0420/"+adv2.RRN]
	})
	awaitNoReversalsOwed(t, path)
}
