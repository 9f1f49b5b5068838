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

func TestClusterDefaults(t *testing.T) {
	cfg, err := LoadBytes("min.yaml", []byte(minimal))
	require.NoError(t, err)
	host, _ := os.Hostname()
	assert.Equal(t, Cluster{Node: host, Lease: 15 * time.Second}, cfg.Cluster)
	assert.Empty(t, cfg.Journal.Postgres)
}

func TestJournalPostgresValidated(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600))
	dsn := "postgres://cs:pw@127.0.0.1:5432/cs"
	tests := []struct{ name, yaml, want string }{
		{"with path", "journal: {path: j.db, postgres: '" + dsn + "', key_file: " + key + "}\n",
			`t.yaml: journal.postgres: and journal.path are both set: the journal is either PostgreSQL or SQLite, set one (journal.path: "" with journal.postgres)`},
		{"without key file", "journal: {postgres: '" + dsn + "'}\n",
			`t.yaml: journal.postgres: needs journal.key_file: the nodes seal the messages they store with the same keys, which no node creates on its own`},
		{"node with space", "cluster: {node: 'sw 1'}\n", `t.yaml: cluster.node: "sw 1": want 1..64 characters without spaces or control characters`},
		{"lease", "cluster: {lease: 0s}\n", `t.yaml: cluster.lease: "0s": must be positive`},
		{"unknown", "cluster: {nodes: x}\n", `t.yaml: cluster: unknown key "nodes"`},
		{"spool without postgres", "journal: {spool: j.spool}\n",
			`t.yaml: journal.spool: needs journal.postgres: the spool keeps a PostgreSQL journal's writes while the database is unreachable (the SQLite journal is a local file already)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBytes("t.yaml", []byte(minimal+tt.yaml))
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, []string{tt.want}, ve.Lines())
		})
	}
	cfg, err := LoadBytes("t.yaml", []byte(minimal+"journal: {postgres: '"+dsn+"', key_file: "+key+"}\n"+
		"cluster: {node: sw-1, lease: 20s}\n"))
	require.NoError(t, err)
	assert.Equal(t, dsn, cfg.Journal.Postgres)
	assert.Equal(t, Cluster{Node: "sw-1", Lease: 20 * time.Second}, cfg.Cluster)
}

func TestJournalPostgresFromEnv(t *testing.T) {
	t.Setenv("CARDSWITCH_JOURNAL_POSTGRES", "postgres://x@127.0.0.1/db")
	t.Setenv("CARDSWITCH_CLUSTER_NODE", "sw-9")
	_, err := LoadBytes("t.yaml", []byte(minimal))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve, "the key_file rule applies to the environment's DSN too")
	assert.Contains(t, ve.Lines()[0], "CARDSWITCH_JOURNAL_POSTGRES (journal.postgres): needs journal.key_file")
}

func TestClusterKeysNeedRestart(t *testing.T) {
	key := filepath.Join(t.TempDir(), "k")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600))
	a, err := LoadBytes("t.yaml", []byte(minimal+"cluster: {node: a}\n"))
	require.NoError(t, err)
	b, err := LoadBytes("t.yaml", []byte(minimal+"cluster: {node: b, lease: 1m}\n"))
	require.NoError(t, err)
	d := Diff(a, b)
	assert.Contains(t, d.Restart, "cluster.node")
	assert.Contains(t, d.Restart, "cluster.lease")
	c, err := LoadBytes("t.yaml", []byte(minimal+"cluster: {node: b, lease: 1m}\njournal: {postgres: 'postgres://h/db', key_file: "+key+"}\n"))
	require.NoError(t, err)
	assert.Contains(t, Diff(b, c).Restart, "journal.postgres")
}

// TestJournalSpool: journal.spool is taken from the config file's folder
// (as journal.path), from the environment as given, and needs a restart.
func TestJournalSpool(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600))
	yaml := minimal + "journal: {path: '', postgres: 'postgres://h/db', key_file: " + key + ", spool: sw.spool}\n"
	path := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	cfg, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "sw.spool"), cfg.Journal.Spool)

	t.Setenv("CARDSWITCH_JOURNAL_SPOOL", "rel.spool")
	env, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, "rel.spool", env.Journal.Spool)
	assert.Contains(t, Diff(cfg, env).Restart, "journal.spool")
}
