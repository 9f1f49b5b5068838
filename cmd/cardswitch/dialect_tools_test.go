package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/internal/dialectio"
)

// startIssuerSim runs `cardswitch issuer-sim` on a free port with args and
// returns its address once it listens.
func startIssuerSim(t *testing.T, args ...string) string {
	t.Helper()
	p := startProc(t, "", nil, append([]string{"issuer-sim", "--log-format", "json", "--log-level", "debug",
		"--listen", "127.0.0.1:0"}, args...)...)
	l := p.waitLog(t, "issuer simulator listening", nil)
	return fmt.Sprint(l["addr"])
}

// send --dialect iso87binary-tpdu against an issuer-sim in the same
// dialect: the request goes out binary behind the given TPDU, the answer
// comes back with the NIIs swapped and is printed in the dialect.
func TestSendDialectBinaryTPDU(t *testing.T) {
	addr := startIssuerSim(t, "--dialect", "iso87binary-tpdu", "--rule", "pan_suffix=0051,code=51")
	out, stderr, code := run(t, "send", "--target", addr, "--dialect", "iso87binary-tpdu", "--tpdu", "6000120034",
		"--pan", "4111111111111111", "--amount", "1000", "--stan", "4242")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "-> 0100 to "+addr+" in iso87binary-tpdu")
	assert.Contains(t, out, "header 6000120034", "the request's TPDU")
	assert.Contains(t, out, "header 6000340012", "the answer's TPDU: destination and source NII swapped")
	assert.Contains(t, out, "<- 0110 ")
	assert.Contains(t, out, "39=00")
	assert.Contains(t, out, "004242", "the STAN echoed")
	assert.Contains(t, out, "411111******1111")
	assert.NotContains(t, out, "4111111111111111", "PAN masked")

	out, stderr, code = run(t, "send", "--target", addr, "--dialect", "iso87binary-tpdu",
		"--pan", "4111111111110051", "--amount", "1000")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "header "+defaultTPDU)
	assert.Contains(t, out, "header 6000000001")
	assert.Contains(t, out, "39=51", "the simulator's rules apply in every dialect")
}

// send in a 1993 dialect: the MTI is the one given, the answer carries a
// 3-digit action code.
func TestSendDialect1993(t *testing.T) {
	addr := startIssuerSim(t, "--dialect", "iso93binary")
	out, stderr, code := run(t, "send", "--target", addr, "--dialect", "iso93binary", "--mti", "1100",
		"--pan", "4111111111111111", "--amount", "1000")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "<- 1110 ")
	assert.Contains(t, out, "39=000")

	out, stderr, code = run(t, "send", "--target", addr, "--dialect", "iso93binary", "--mti", "1804")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "<- 1814 ")
	assert.Contains(t, out, "831", "the function code echoed")
}

// An unknown dialect is refused by every tool, naming the known ones.
func TestToolsRefuseUnknownDialect(t *testing.T) {
	for _, args := range [][]string{
		{"send", "--dialect", "iso87klingon", "--pan", "4111111111111111"},
		{"issuer-sim", "--listen", "127.0.0.1:0", "--dialect", "iso87klingon"},
		{"replay", "--dialect", "iso87klingon", "--count", "1"},
		{"record", "--dialect", "iso87klingon", "--upstream", "127.0.0.1:1", "--out", "-"},
	} {
		_, stderr, code := run(t, args...)
		assert.Equal(t, 1, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, `unknown dialect "iso87klingon" (known: `+dialectio.Known()+")", "%v", args)
	}
	_, stderr, code := run(t, "send", "--dialect", "iso87binary", "--tpdu", "6000010000", "--pan", "4111111111111111")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "--tpdu: dialect iso87binary has no TPDU header")
	assert.True(t, strings.Contains(dialectio.Known(), "iso87binary-tpdu"))
}

// replay --dialect iso93ascii against an issuer-sim in the same dialect: a
// trace of 1993 values (1100, 12 as YYMMDDhhmmss, 3-digit expected action
// codes) goes out as it is and the answers are validated in 1993.
func TestReplayDialect1993(t *testing.T) {
	addr := startIssuerSim(t, "--dialect", "iso93ascii", "--rule", "pan_suffix=0051,code=51")
	tr := writeFile(t, "t93.jsonl", `{"0":"1100","2":"4111111111111111","3":"000000","4":"000000001000","7":"1207101010","11":"000001","12":"261207101010","37":"000000000001","41":"TERM0001","49":"840","expect":"000"}
{"0":"1200","2":"4111111111110051","3":"000000","4":"000000001000","7":"1207101011","11":"000002","12":"261207101011","37":"000000000002","41":"TERM0001","49":"840","expect":"116"}
{"0":"1804","7":"1207101012","11":"000003","24":"831","expect":"000"}
`)
	out, stderr, code := run(t, "replay", "--target", addr, "--dialect", "iso93ascii", tr)
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "000")
	assert.Contains(t, out, "116")

	// The answers are really checked: a wrong expectation fails the run.
	bad := writeFile(t, "bad93.jsonl", `{"0":"1100","2":"4111111111110051","4":"000000001000","11":"000001","expect":"000"}`+"\n")
	out, _, code = run(t, "replay", "--target", addr, "--dialect", "iso93ascii", bad)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "response code 116, want 000")
}

// record --dialect iso87binary between an acquirer (send) and an issuer in
// that dialect: the trace notes the dialect and keeps the field values,
// and replaying it (in the noted dialect) gets the same answers.
func TestRecordDialectBinaryThenReplay(t *testing.T) {
	sim := startIssuerSim(t, "--dialect", "iso87binary", "--rule", "pan_suffix=0051,code=51")
	out := filepath.Join(t.TempDir(), "rec.jsonl")
	rec := startProc(t, "", nil, "record", "--log-format", "json", "--listen", "127.0.0.1:0", "--upstream", sim,
		"--dialect", "iso87binary", "--out", out, "--keep-pan")
	listen := fmt.Sprint(rec.waitLog(t, "recording", map[string]string{"dialect": "iso87binary"})["listen"])
	for i, pan := range []string{"4111111111111111", "4111111111110051"} {
		o, stderr, code := run(t, "send", "--target", listen, "--dialect", "iso87binary", "--pan", pan,
			"--amount", "100", "--stan", fmt.Sprint(i+1), "--field", "48=LOYALTY 7")
		require.Equal(t, 0, code, "%s%s", o, stderr)
	}
	require.NoError(t, rec.cmd.Process.Signal(syscall.SIGTERM))
	rec.waitLog(t, "recording stopped", map[string]string{"requests": "2"})

	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	require.Len(t, lines, 3, string(raw))
	assert.Equal(t, "# dialect: iso87binary", lines[0])
	assert.Contains(t, lines[1], `"2":"4111111111111111"`, "field values, not binary wire bytes")
	assert.Contains(t, lines[1], `"48":"LOYALTY 7"`)
	assert.Contains(t, lines[1], `"expect":"00"`)
	assert.Contains(t, lines[2], `"expect":"51"`)

	o, stderr, code := run(t, "replay", "--target", sim, out)
	require.Equal(t, 0, code, "%s%s", o, stderr)
	assert.Contains(t, o, "51")
	// In the wrong dialect the binary simulator cannot read the requests.
	o, _, code = run(t, "replay", "--target", sim, "--dialect", "iso87ascii", "--timeout", "500ms", out)
	assert.Equal(t, 1, code, o)
}

// simulators[].dialect: `serve` starts the config's simulator in its
// dialect, here behind a TPDU.
func TestServeSimulatorDialect(t *testing.T) {
	p, _ := serveOnFreePorts(t, nil, `
listen:
  address: 127.0.0.1:18583
admin:
  address: ""
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:19101]
routes:
  - {bin: "4", issuer: bank-a}
simulators:
  - name: plain
    listen: 127.0.0.1:19101
  - name: pos
    listen: 127.0.0.1:19102
    dialect: iso87binary-tpdu
`)
	l := p.waitLog(t, "issuer simulator listening", map[string]string{"sim": "pos"})
	assert.Equal(t, "iso87binary-tpdu", l["dialect"])
	out, stderr, code := run(t, "send", "--target", fmt.Sprint(l["addr"]), "--dialect", "iso87binary-tpdu",
		"--pan", "4111111111111111", "--amount", "100")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "39=00")
	assert.Contains(t, out, "header 6000000001")
}
