package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const standInYAML = `issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101]
    offline_after: 5
    stand_in:
      enabled: true
      max_amount: 10000
      max_count: 3
      max_total: 30000
      window: 12h
      block_processing: ["01"]
      block_mcc: ["7995"]
      advice_ttl: 48h
      advice_rate: 2.5
routes:
  - bin: "4"
    issuer: bank-a
journal:
  path: journal.db
`

// TestStandInKeys: the config contract loads as written.
func TestStandInKeys(t *testing.T) {
	cfg, err := LoadBytes("standin.yaml", []byte(standInYAML))
	require.NoError(t, err)
	is := cfg.Issuers[0]
	assert.Equal(t, 5, is.OfflineAfter)
	assert.Equal(t, StandIn{Enabled: true, MaxAmount: 10000, MaxCount: 3, MaxTotal: 30000, Window: 12 * time.Hour,
		BlockProcessing: []string{"01"}, BlockMCC: []string{"7995"}, AdviceTTL: 48 * time.Hour, AdviceRate: 2.5}, is.StandIn)
}

// TestStandInRules: each rule names its key.
func TestStandInRules(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600))
	for _, tc := range []struct{ old, new, want string }{
		{"max_amount: 10000", "max_amount: 0", "max_amount is required"},
		{`block_processing: ["01"]`, "block_processing: [1]", `block_processing[0] "1": must be 2 digits`},
		{`block_mcc: ["7995"]`, `block_mcc: ["79x5"]`, `block_mcc[0] "79x5": must be 4 digits`},
		{"advice_rate: 2.5", "advice_rate: 0", `advice_rate "0": must be a positive number`},
		{"window: 12h", "window: 0s", `window "0s": must be positive`},
		{"advice_ttl: 48h", "advice_ttl: -1h", `advice_ttl "-1h": must not be negative`},
		{"path: journal.db", `path: ""`, "enabled needs journal.path or journal.postgres"},
	} {
		_, err := LoadBytes("standin.yaml", []byte(strings.ReplaceAll(strings.Replace(standInYAML, tc.old, tc.new, 1),
			"KEY", key)))
		require.Error(t, err, tc.new)
		assert.Contains(t, err.Error(), "issuers[0] (bank-a).stand_in", tc.new)
		assert.Contains(t, err.Error(), tc.want, tc.new)
	}
}

// TestStandInOnPostgres: stand-in with the PostgreSQL journal loads (the
// counters and advices are shared by the nodes).
func TestStandInOnPostgres(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600))
	cfg, err := LoadBytes("standin.yaml", []byte(strings.Replace(standInYAML, "path: journal.db",
		"path: \"\"\n  postgres: postgres://x@127.0.0.1/db\n  key_file: "+key, 1)))
	require.NoError(t, err)
	assert.True(t, cfg.Issuers[0].StandIn.Enabled)
	assert.NotEmpty(t, cfg.Journal.Postgres)
}
