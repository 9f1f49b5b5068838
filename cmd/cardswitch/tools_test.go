package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/testpki"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fieldIssuer is an issuer on a loopback socket that answers one request
// 00 and hands it over, unpacked, for the test to read its fields.
func fieldIssuer(t *testing.T) (addr string, got <-chan *iso8583.Message) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ch := make(chan *iso8583.Message, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		frame, err := iso.NewFrameReader(c, 1<<16).Next()
		if err != nil {
			return
		}
		m := iso8583.NewMessage(iso.Spec87())
		if m.Unpack(frame) != nil {
			return
		}
		ch <- m
		resp := iso8583.NewMessage(iso.Spec87())
		resp.MTI("0110")
		stan, _ := m.GetString(11)
		_ = resp.Field(11, stan)
		_ = resp.Field(39, "00")
		if packed, err := resp.Pack(); err == nil {
			_ = iso.WriteFrame(c, packed)
		}
		// Hold the connection until the client closes it: a close right
		// after the answer can reach the client's reader before the answer
		// is matched.
		_, _ = io.Copy(io.Discard, c)
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), ch
}

// send --field sets any field, 32, 48 and 90 among them, and overrides the
// named flags' fields.
func TestSendFieldFlags(t *testing.T) {
	addr, got := fieldIssuer(t)
	orig := "0100000001120712345600000000123400000000000"[:42]
	out, stderr, code := run(t, "send", "--target", addr, "--pan", "4111111111111111", "--amount", "100",
		"--field", "32=123456", "--field", "48=LOYALTY 42", "--field", "90="+orig, "--field", "41=TERM0042")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	m := <-got
	for id, want := range map[int]string{32: "123456", 48: "LOYALTY 42", 90: orig, 41: "TERM0042"} {
		v, err := m.GetString(id)
		require.NoError(t, err)
		assert.Equal(t, want, v, "field %d", id)
	}
	assert.Contains(t, out, "39=00")
}

// A value the spec refuses is reported against its field and flag, with
// the rule; a PAN's digits are never printed.
func TestSendNamesFieldInBuildErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--pan", "4111111111111111", "--terminal", "T2"},
			`--terminal: field 41 (Card Acceptor Terminal Identification) "T2": must be exactly 8 characters, got 2`},
		{[]string{"--pan", "41111111111111111111"}, "--pan: field 2 (Primary Account Number): at most 19 characters, got 20"},
		{[]string{"--pan", "4111111111111111", "--field", "32=123456789012"},
			`--field 32: field 32 (Acquiring Institution Identification Code) "123456789012": at most 11 characters, got 12`},
		{[]string{"--pan", "4111111111111111", "--field", "4=12a"}, `--field 4: field 4 (Amount, Transaction) "12a": digits only`},
		{[]string{"--pan", "4111111111111111", "--field", "x"}, `--field "x": want N=VALUE`},
	}
	for _, tt := range tests {
		_, stderr, code := run(t, append([]string{"send", "--target", "127.0.0.1:1"}, tt.args...)...)
		assert.Equal(t, 1, code, tt.args)
		assert.Contains(t, stderr, tt.want)
		assert.NotContains(t, stderr, "41111111111111111111")
		assert.NotContains(t, stderr, "connect", "refused before connecting")
	}
}

// tlsSwitch serves a switch whose listener is TLS, its certificate files
// named relative to the config's folder and the switch started from
// another folder, with a simulator behind it. It returns the switch's
// address and the CA file that verifies it.
func tlsSwitch(t *testing.T) (addr, caFile string) {
	t.Helper()
	sim := replaySim(t, config.Simulator{Name: "bank"})
	ca := testpki.NewCA(t, "cardswitch tools CA")
	etc := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(etc, "tls"), 0o700))
	cert, key := ca.Issue(t, "switch", nil, []net.IP{net.ParseIP("127.0.0.1")}, false)
	testpki.WriteFiles(t, filepath.Join(etc, "tls"), "switch", cert, key)
	caFile, _ = testpki.WriteFiles(t, t.TempDir(), "ca", ca.CertPEM(), nil)
	cfg := filepath.Join(etc, "switch.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`listen:
  address: "127.0.0.1:0"
  tls: {cert_file: tls/switch.crt, key_file: tls/switch.key}
issuers:
  - {name: bank, endpoints: [`+sim+`]}
routes:
  - {bin: "4", issuer: bank}
`), 0o600))
	p := startServeIn(t, t.TempDir(), nil, "--config", cfg)
	addr = p.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	p.waitLog(t, "issuer link up", nil)
	return addr, caFile
}

// send and replay reach a TLS switch with --tls-ca; without it the
// handshake is what fails.
func TestToolsOverTLS(t *testing.T) {
	addr, ca := tlsSwitch(t)
	out, stderr, code := run(t, "send", "--target", addr, "--tls-ca", ca, "--pan", "4111111111111111", "--amount", "100")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "39=00")

	rout, code, err := runReplay(t, "--target", addr, "--tls-ca", ca, "--count", "20", "--concurrency", "4",
		"--bins", "411111")
	require.NoError(t, err)
	assert.Equal(t, 0, code, rout)
	assert.Regexp(t, `answered\s+20\n`, rout)

	_, stderr, code = run(t, "send", "--target", addr, "--tls-ca", ca, "--tls-server-name", "other.example", "--mti", "0800")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "certificate")
}

// A jPOS log whose fixed-length fields are shorter than the field (as
// jPOS logs them) replays clean: padded as jPOS pads them when it packs.
func TestReplayJPOSShortFixedFields(t *testing.T) {
	addr := replaySim(t, config.Simulator{})
	out, code, err := runReplay(t, "--target", addr, "../../testdata/traces/jpos-short-fields.xml")
	require.NoError(t, err)
	assert.Equal(t, 0, code, out)
	assert.Regexp(t, `answered\s+2\n`, out)
	assert.Regexp(t, `validation failures\s+0\n`, out)
}

// With the default --max-errors 0 the first timeout stops the run: the
// summary and stderr say so, and why.
func TestReplaySaysWhyItStoppedEarly(t *testing.T) {
	addr := replaySim(t, config.Simulator{Rules: []config.SimRule{{Amount: 999, NoAnswer: true}}})
	p := writeTrace(t, 5, 999, "")
	cmd := exec.Command(binary, "replay", "--target", addr, "--timeout", "100ms", p)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.Error(t, err)
	assert.Regexp(t, `stopped early\s+timeouts plus errors \(1\) exceeded the most allowed \(0\)\n`, stdout.String())
	assert.Regexp(t, `sent\s+1\n`, stdout.String())
	assert.Contains(t, stderr.String(), "replay stopped early: timeouts plus errors (1) exceeded the most allowed (0) "+
		"(--max-errors 0; 0, the default, stops at the first timeout or error, -1 never stops)")

	out, _, err := runReplay(t, "--target", addr, "--timeout", "100ms", "--max-errors", "-1", p)
	require.NoError(t, err)
	assert.NotContains(t, out, "stopped early", "a run that sent everything did not stop early")
}

// replay's trace warnings go through --log-format/--log-level.
func TestReplayTraceWarningsUseTheLogger(t *testing.T) {
	addr := replaySim(t, config.Simulator{})
	xml := `<log realm="c" at="2026-12-07T10:15:00.000Z"><send><isomsg>
<field id="0" value="0800"/><field id="11" value="000001"/><field id="70" value="301"/>
<isomsg id="48"><field id="1" value="x"/></isomsg></isomsg></send></log>`
	trace := writeFile(t, "sub.xml", xml)
	_, stderr, code := run(t, "replay", "--log-format", "json", "--target", addr, trace)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, `{"time":`)
	assert.Contains(t, stderr, `"msg":"trace: jPOS subfields skipped: field is not composite in the spec"`)
	_, stderr, _ = run(t, "replay", "--log-level", "error", "--target", addr, trace)
	assert.NotContains(t, stderr, "subfields skipped")
}

// testdata/demo.yaml serves the admin endpoints and keeps a journal, which
// the README's examples use: a reload over the admin listener, and txn
// with --config finding the journal beside the config.
func TestDemoConfigHasAdminAndJournal(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/demo.yaml")
	require.NoError(t, err)
	p, listening := serveOnFreePorts(t, nil, string(raw))
	admin, _ := listening["admin"].(string)
	require.NotEmpty(t, admin, "demo.yaml serves the admin endpoints")
	p.waitLog(t, "issuer link up", map[string]string{"issuer": "bank-a"})
	out, stderr, code := run(t, "send", "--target", listening["addr"].(string), "--pan", "4111111111111111",
		"--amount", "1000", "--stan", "777")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	resp, err := http.Post("http://"+admin+"/admin/reload", "", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	exit := <-p.done
	p.done <- exit
	require.NoError(t, exit)
	cfg := p.cmd.Args[len(p.cmd.Args)-1]
	out, stderr, code = run(t, "txn", "list", "--json", "--config", cfg)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, `"stan":"000777"`)
}
