package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadResolvesRelativePaths: relative paths in a config file name files
// beside the file, whatever the working directory; absolute ones and ones
// set by an environment variable are left as they are.
func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := filepath.Join(pemFiles(t), "etc")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tls"), 0o700))
	for _, name := range []string{"tls/cert.pem", "tls/key.pem", "tls/ca.pem"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("-----BEGIN-----\n"), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("0123456789abcdef\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "journal.key"), []byte(strings.Repeat("ab", 32)+"\n"), 0o600))
	yaml := `
listen:
  address: 127.0.0.1:0
  tls: {cert_file: tls/cert.pem, key_file: tls/key.pem, client_ca_file: tls/ca.pem}
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101]
    tls: {ca_file: tls/ca.pem, cert_file: tls/cert.pem, key_file: ./tls/key.pem}
routes:
  - bin: "4"
    issuer: bank-a
admin: {address: "127.0.0.1:0", token_file: token}
journal: {path: data/cardswitch.db, key_file: journal.key}
`
	path := filepath.Join(dir, "switch.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	t.Chdir(t.TempDir()) // none of the files is here

	cfg, err := Load(path)
	require.NoError(t, err)
	in := func(name string) string { return filepath.Join(dir, name) }
	assert.Equal(t, in("tls/cert.pem"), cfg.Listen.TLS.CertFile)
	assert.Equal(t, in("tls/key.pem"), cfg.Listen.TLS.KeyFile)
	assert.Equal(t, in("tls/ca.pem"), cfg.Listen.TLS.ClientCAFile)
	assert.Equal(t, in("tls/ca.pem"), cfg.Issuers[0].TLS.CAFile)
	assert.Equal(t, in("tls/key.pem"), cfg.Issuers[0].TLS.KeyFile)
	assert.Equal(t, in("token"), cfg.Admin.TokenFile)
	assert.Equal(t, in("data/cardswitch.db"), cfg.Journal.Path)
	assert.Equal(t, in("journal.key"), cfg.Journal.KeyFile)

	t.Setenv("CARDSWITCH_JOURNAL_PATH", "here.db")
	cfg, err = Load(path)
	require.NoError(t, err)
	assert.Equal(t, "here.db", cfg.Journal.Path, "a variable's path is the shell's: the working directory")

	_, err = LoadBytes(path, []byte(yaml))
	require.Error(t, err, "LoadBytes has no folder: the TLS files are looked for in the working directory")
}

// TestEnvErrorNamesVariable: a bad value from an environment variable is
// reported against the variable, not the file; the file's own problems
// still name the file.
func TestEnvErrorNamesVariable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switch.yaml")
	require.NoError(t, os.WriteFile(path, []byte(minimal+"journal: {sync: sometimes}\n"), 0o600))
	t.Setenv("CARDSWITCH_LISTEN_MAX_IN_FLIGHT", "abc")
	_, err := Load(path)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ElementsMatch(t, []string{
		`CARDSWITCH_LISTEN_MAX_IN_FLIGHT (listen.max_in_flight): "abc": not an integer`,
		path + `: journal.sync: "sometimes": want normal or full`,
	}, ve.Lines())
}
