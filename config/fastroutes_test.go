package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fastIssuers = "issuers: [{name: bank-a, endpoints: [\"127.0.0.1:9101\"]}, {name: b, endpoints: [\"127.0.0.1:9102\"]}]\n"

// fastCases are route lists in many spellings; each either takes the fast
// path or not (want), and must load exactly as the decoder loads it.
var fastCases = []struct {
	name string
	yaml string
	fast bool
}{
	{"block", "routes:\n  - bin: \"4\"\n    issuer: bank-a\n  - bin: '5'   # comment\n    issuer: b\n", true},
	{"block at column 0", "routes:\n- bin: \"4\"\n  issuer: bank-a\n", true},
	{"flow items", "routes:\n  - {bin: \"4\", issuer: bank-a}\n  -  {bin: \"5\", issuer: b}\n", false},
	{"flow items tight", "routes: # the table\n  - {bin: \"4\",issuer: bank-a}   # x\n\n  # gap\n  - {issuer: b, bin: \"510000-559999\"}\n", true},
	{"routes first, crlf", "routes:\r\n  - bin: \"4\"\r\n    issuer: bank-a\r\n" + fastIssuers, true},
	{"empty list", "routes:\n", true},
	{"missing issuer", "routes:\n  - bin: \"4\"\n", true},
	{"unquoted bin", "routes:\n  - bin: 4111\n    issuer: bank-a\n", false},
	{"octal-looking bin", "routes:\n  - bin: 0411\n    issuer: bank-a\n", false},
	{"unknown key", "routes:\n  - bin: \"4\"\n    isuer: bank-a\n", false},
	{"repeated key", "routes:\n  - bin: \"4\"\n    bin: \"5\"\n    issuer: bank-a\n", false},
	{"escape", "routes:\n  - bin: \"\\x34\"\n    issuer: bank-a\n", false},
	{"bool issuer", "routes:\n  - bin: \"4\"\n    issuer: yes\n", false},
	{"anchor", "routes:\n  - &r {bin: \"4\", issuer: bank-a}\n", false},
	{"flow list", "routes: [{bin: \"4\", issuer: bank-a}]\n", false},
	{"bad indentation", "routes:\n  - bin: \"4\"\n     issuer: bank-a\n", false},
	{"tab", "routes:\n  - bin: \"4\"\n    issuer:\tbank-a\n", false},
	{"duplicate routes key", "routes:\n  - bin: \"4\"\n    issuer: bank-a\nroutes:\n  - bin: \"5\"\n    issuer: b\n", false},
	{"capitalised second key", "routes:\n  - bin: \"4\"\n    issuer: bank-a\nRoutes: []\n", false},
	{"document marker", "routes:\n  - bin: \"4\"\n    issuer: bank-a\n---\nroutes: []\n", false},
	{"syntax error after", "routes:\n  - bin: \"4\"\n    issuer: bank-a\nlisten: [\n", true},
	{"plain issuer with hash", "routes:\n  - bin: \"4\"\n    issuer: bank-a#x\n", false},
	{"multi-word issuer", "routes:\n  - bin: \"4\"\n    issuer: bank a\n", false},
	{"nested list", "routes:\n  - bin: \"4\"\n    issuer: bank-a\n    - x\n", false},
	{"bad bin and unknown issuer", "routes:\n  - bin: \"4x\"\n    issuer: bank-z\n  - bin: \"4x\"\n    issuer: bank-a\n", true},
}

func TestSplitRoutesForms(t *testing.T) {
	for _, tt := range fastCases {
		t.Run(tt.name, func(t *testing.T) {
			_, _, fast := splitRoutes([]byte(fastIssuers + tt.yaml))
			assert.Equal(t, tt.fast, fast)
		})
	}
}

func TestFastRoutesMatchDecoder(t *testing.T) {
	docs := map[string][]byte{}
	for _, tt := range fastCases {
		docs[tt.name] = []byte(fastIssuers + tt.yaml)
	}
	files, err := filepath.Glob("../testdata/*.yaml")
	require.NoError(t, err)
	bad, err := filepath.Glob("../testdata/bad/*.yaml")
	require.NoError(t, err)
	for _, path := range append(files, bad...) {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		docs[path] = data
	}
	docs["default"] = DefaultYAML
	for name, data := range docs {
		t.Run(name, func(t *testing.T) {
			fastCfg, fastErr := LoadBytes("t.yaml", data)
			useFastRoutes = false
			defer func() { useFastRoutes = true }()
			slowCfg, slowErr := LoadBytes("t.yaml", data)
			if slowErr != nil {
				require.Error(t, fastErr)
				assert.Equal(t, slowErr.Error(), fastErr.Error())
				return
			}
			require.NoError(t, fastErr)
			fastCfg.LoadedAt = slowCfg.LoadedAt
			assert.Equal(t, slowCfg, fastCfg)
		})
	}
}
