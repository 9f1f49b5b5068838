package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
)

// userDialectConfig writes a config whose dialects: has my-bank (the
// spec beside the config, named relative to it) and returns its path.
func userDialectConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	spec, err := os.ReadFile("../../testdata/dialects/my-bank.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "my-bank.json"), spec, 0o600))
	p := filepath.Join(dir, "switch.yaml")
	require.NoError(t, os.WriteFile(p, []byte(`
issuers:
  - name: bank
    endpoints: [127.0.0.1:1]
routes:
  - {bin: "4", issuer: bank}
dialects:
  - name: my-bank
    spec: my-bank.json
    version: 1987
    length: bcd2
    header: tpdu
`), 0o600))
	return p
}

// `dialects --config FILE` lists FILE's own dialects after the built-ins:
// name, version, framing and the spec file.
func TestDialectsListsConfigDialects(t *testing.T) {
	p := userDialectConfig(t)
	out, stderr, code := run(t, "dialects", "--config", p)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `(?m)^iso87ascii +1987 +binary2 `, out, "the built-ins still listed")
	assert.Regexp(t, `(?m)^my-bank +1987 +bcd2 +tpdu +\S*my-bank\.json +- \(user-defined in `, out)

	out, _, code = run(t, "dialects")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "my-bank", "without --config: built-ins only")

	_, stderr, code = run(t, "dialects", "--config", filepath.Join(t.TempDir(), "nope.yaml"))
	assert.NotEqual(t, 0, code)
	assert.Contains(t, stderr, "--config")
}

// `decode --config FILE --dialect my-bank` decodes in FILE's user dialect
// (PAN masked); without --config the name is unknown.
func TestDecodeInConfigDialect(t *testing.T) {
	p := userDialectConfig(t)
	cfg, err := config.Load(p)
	require.NoError(t, err)
	d, ok := cfg.LookupDialect("my-bank")
	require.True(t, ok)
	spec, err := d.Spec()
	require.NoError(t, err)
	m := iso8583.NewMessage(spec)
	m.MTI("0100")
	require.NoError(t, m.Field(2, "4111111111111111"))
	require.NoError(t, m.Field(11, "000042"))
	msg, err := m.Pack()
	require.NoError(t, err)

	out, err := runDecode(t, "", "--config", p, "--dialect", "my-bank", hex.EncodeToString(msg))
	require.NoError(t, err)
	assert.Contains(t, out, "my-bank (ISO 8583:1987)")
	assert.Contains(t, out, "0100")
	assert.Contains(t, out, "000042")
	assert.Contains(t, out, "411111******1111")
	assert.NotContains(t, out, "4111111111111111")

	_, err = runDecode(t, "", "--dialect", "my-bank", hex.EncodeToString(msg))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown dialect "my-bank"`)
}

// The tools take --config for its user dialects: an issuer-sim speaking
// my-bank (EBCDIC text, BCD numerics, a bcd2 length and a TPDU) answers
// send speaking it too; without --config the name is unknown.
func TestToolsSpeakConfigDialect(t *testing.T) {
	p := userDialectConfig(t)
	addr := startIssuerSim(t, "--config", p, "--dialect", "my-bank", "--rule", "pan_suffix=0051,code=51")
	out, stderr, code := run(t, "send", "--config", p, "--target", addr, "--dialect", "my-bank",
		"--pan", "4111111111110051", "--amount", "1000", "--stan", "4243")
	require.Equal(t, 0, code, "%s%s", out, stderr)
	assert.Contains(t, out, "in my-bank")
	assert.Contains(t, out, "<- 0110 ")
	assert.Contains(t, out, "39=51")
	assert.Contains(t, out, "004243")
	assert.NotContains(t, out, "4111111111110051", "PAN masked")

	out, stderr, code = run(t, "replay", "--config", p, "--target", addr, "--dialect", "my-bank", "--count", "20")
	require.Equal(t, 0, code, "%s%s", out, stderr)

	_, stderr, code = run(t, "send", "--target", addr, "--dialect", "my-bank", "--pan", "4111111111111111")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `unknown dialect "my-bank"`)
}
