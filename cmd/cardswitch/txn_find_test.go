package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A switch started with --config from one folder keeps its journal where
// the config's relative journal.path says, beside the config; txn --config,
// run from yet another folder, finds it there.
func TestTxnFindsJournalOfServeConfig(t *testing.T) {
	sim := replaySim(t, config.Simulator{Name: "bank"})
	etc := t.TempDir()
	cfg := filepath.Join(etc, "switch.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(`listen: {address: "127.0.0.1:0"}
issuers:
  - {name: bank, endpoints: [`+sim+`]}
routes:
  - {bin: "4", issuer: bank}
journal: {path: data/switch.db}
`), 0o600))
	p := startServeIn(t, t.TempDir(), nil, "--config", cfg)
	addr := p.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	p.waitLog(t, "issuer link up", nil)
	c, err := acqclient.Dial(addr, 10*time.Second)
	require.NoError(t, err)
	m, err := acqclient.Request{PAN: "4111111111111111", Amount: 100, STAN: 4242, RRN: "000000004242", Terminal: "TERM0001"}.Message()
	require.NoError(t, err)
	resp, err := c.Send(m)
	require.NoError(t, err)
	code, _ := resp.GetString(39)
	require.Equal(t, "00", code)
	require.NoError(t, c.Close())
	// A stopped switch has indexed every entry: the query sees them all.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	exit := <-p.done
	p.done <- exit
	require.NoError(t, exit)
	require.FileExists(t, filepath.Join(etc, "data", "switch.db"), "journal.path is relative to the config's folder")

	txn := exec.Command(binary, "txn", "list", "--json", "--config", cfg)
	txn.Dir = t.TempDir()
	out, err := txn.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), `"stan":"004242"`)
}

// Without --config, CARDSWITCH_JOURNAL_PATH names the journal as it does
// for serve; an explicit --journal that disagrees with it, or comes with
// --config, is refused instead of silently losing.
func TestTxnJournalPrecedence(t *testing.T) {
	path := txnJournal(t)
	t.Chdir(t.TempDir()) // no cardswitch.db here
	t.Setenv("CARDSWITCH_JOURNAL_PATH", path)
	out, err := runTxn(t, "stats")
	require.NoError(t, err)
	assert.Contains(t, out, "6 transactions")

	_, err = runTxn(t, "stats", "--journal", "other.db")
	require.ErrorContains(t, err, "--journal other.db and CARDSWITCH_JOURNAL_PATH="+path+" name different journals")
	_, err = runTxn(t, "stats", "--journal", path)
	require.NoError(t, err, "the same journal both ways")

	cfg := writeFile(t, "c.yaml", "issuers: [{name: a, endpoints: [\"127.0.0.1:9\"]}]\nroutes: [{bin: \"4\", issuer: a}]\n")
	_, err = runTxn(t, "stats", "--config", cfg, "--journal", path)
	require.ErrorContains(t, err, "--journal and --config both name the journal")
	out, err = runTxn(t, "stats", "--config", cfg)
	require.NoError(t, err, "the file has no journal.path, so the variable's applies, as serve does")
	assert.Contains(t, out, "6 transactions")
}
