package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/iso"
)

// loadIn writes yaml as config.yaml in a folder holding testdata's spec
// files and loads it from there: spec paths are relative to that folder.
func loadIn(t *testing.T, yaml string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"mybank.json", "broken.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o600))
	}
	p := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(p, []byte(yaml), 0o600))
	return Load(p)
}

func TestDialectsDefaultAndResolve(t *testing.T) {
	cfg, err := loadIn(t, minimal+`
listeners:
  - name: pos
    address: 127.0.0.1:0
    dialect: my-bank
  - name: hosts
    address: 127.0.0.1:8601
dialects:
  - name: my-bank
    spec: mybank.json
    version: 1993
    length: bcd2
    header: tpdu
`)
	require.NoError(t, err)
	assert.Equal(t, DefaultDialect, cfg.Listen.Dialect)
	assert.Equal(t, DefaultDialect, cfg.Issuers[0].Dialect)
	assert.Equal(t, DefaultDialect, cfg.Listeners[1].Dialect)
	d, ok := cfg.LookupDialect("my-bank")
	require.True(t, ok)
	assert.Equal(t, 1993, d.Version)
	assert.Equal(t, iso.Framing{Length: iso.LengthBCD2, Header: iso.HeaderTPDU}, d.Framing)
	assert.False(t, d.Canonical())
	d, ok = cfg.LookupDialect("")
	require.True(t, ok)
	assert.Equal(t, "iso87ascii", d.Name)
	_, ok = cfg.LookupDialect("nope")
	assert.False(t, ok)
}

func TestDialectsValidation(t *testing.T) {
	known := "iso87ascii, iso87ascii-ascii4, iso87binary, iso87binary-tpdu, iso93ascii, iso93binary, iso87ebcdic"
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the lines, in order
	}{
		{"unknown listen dialect", "listen:\n  dialect: jpos\n" + minimal,
			[]string{`listen.dialect: unknown dialect "jpos" (known: ` + known + `)`}},
		{"unknown issuer dialect", `
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101]
    dialect: my-bank
dialects:
  - name: other
    spec: mybank.json
    version: 1987
`, []string{`issuers[0] (bank-a): unknown dialect "my-bank" (known: ` + known + `, other)`}},
		{"duplicate and shadowing dialects", minimal + `
dialects:
  - name: a
    spec: mybank.json
    version: 1987
  - name: a
    spec: mybank.json
    version: 1987
  - name: iso87binary
    spec: mybank.json
    version: 1987
`, []string{`dialects[1] (a): duplicate dialect name, first used by dialects[0]`,
			`dialects[2] (iso87binary): name "iso87binary" is a built-in dialect's: a user dialect must not shadow it`}},
		{"bad version, length, header, spec", minimal + `
dialects:
  - name: a
    spec: missing.json
    version: 1990
    length: bcd3
    header: "hex:zz"
  - name: b
    spec: broken.json
    version: 1987
  - name: c
    version: 1993
`, []string{`dialects[0] (a): version "1990": must be 1987 or 1993`,
			`dialects[0] (a): length "bcd3": must be one of binary2, binary2-inclusive, bcd2, ascii4, binary4, none`,
			`dialects[0] (a): header "hex:zz": must be "", tpdu or hex: followed by the header's bytes in hex`,
			`dialects[0] (a): spec "`, `missing.json": open `,
			`dialects[1] (b): spec "`, `broken.json" does not load: `,
			`dialects[2] (c): spec is required`}},
		{"listeners", "listen:\n  address: 127.0.0.1:8583\n" + minimal + `
listeners:
  - name: listen
    address: 127.0.0.1:8600
  - name: a
    address: 127.0.0.1:8583
  - name: a
    address: 127.0.0.1:8600
    dialect: nope
  - address: ""
`, []string{`listeners[0] (listen): name "listen" is listen.address's`,
			`listeners[1] (a): address "127.0.0.1:8583": two listeners on one address (also listen.address)`,
			`listeners[2] (a): duplicate listener name, first used by listeners[1]`,
			`listeners[2] (a): address "127.0.0.1:8600": two listeners on one address (also listeners[0] (listen))`,
			`listeners[3]: name is required`,
			`listeners[3]: address "": `,
			`listeners[2] (a): unknown dialect "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadIn(t, tt.yaml)
			require.Error(t, err)
			msg := err.Error()
			at := 0
			for _, w := range tt.want {
				i := strings.Index(msg[at:], w)
				require.GreaterOrEqual(t, i, 0, "want %q after offset %d in:\n%s", w, at, msg)
				at += i + len(w)
			}
			assert.Contains(t, msg, "config.yaml: ", "the problems name the file")
		})
	}
}
