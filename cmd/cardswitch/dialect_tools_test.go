package main

import (
	"fmt"
	"strings"
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
