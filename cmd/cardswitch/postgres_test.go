package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeWithPostgresJournal: a switch whose journal is on PostgreSQL
// answers, and every answer's entry is in the database when the answer
// arrives: txn list --config, run while the switch still runs, shows it,
// with txn show and txn stats. The DSN's password is never logged.
func TestServeWithPostgresJournal(t *testing.T) {
	dsn := pgtest.DSN(t)
	sim := replaySim(t, config.Simulator{Name: "bank"})
	key := writeFile(t, "journal.key", strings.Repeat("5a", 32)+"\n")
	cfg := writeFile(t, "switch.yaml", `listen: {address: "127.0.0.1:0"}
issuers:
  - {name: bank, endpoints: [`+sim+`]}
routes:
  - {bin: "4", issuer: bank}
journal: {path: "", postgres: '`+dsn+`', key_file: `+key+`}
cluster: {node: sw-test}
`)
	p := startServe(t, "--config", cfg)
	addr := p.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	open := p.waitLog(t, "journal open", map[string]string{"node": "sw-test"})
	p.waitLog(t, "issuer link up", nil)
	c, err := acqclient.Dial(addr, 10*time.Second)
	require.NoError(t, err)
	for stan := 7001; stan <= 7003; stan++ {
		m, err := acqclient.Request{PAN: "4111111111111111", Amount: 100, STAN: stan,
			RRN: fmt.Sprintf("%012d", stan), Terminal: "TERM0001"}.Message()
		require.NoError(t, err)
		resp, err := c.Send(m)
		require.NoError(t, err)
		code, _ := resp.GetString(39)
		require.Equal(t, "00", code)
	}
	require.NoError(t, c.Close())

	out := txnCmd(t, "list", "--json", "--config", cfg)
	for stan := 7001; stan <= 7003; stan++ {
		assert.Contains(t, out, fmt.Sprintf(`"stan":"%06d"`, stan), "answered, so committed")
	}
	assert.NotContains(t, out, "4111111111111111")
	var first struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(strings.TrimSpace(out), "\n", 2)[0]), &first), out)
	show := txnCmd(t, "show", strconv.FormatInt(first.ID, 10), "--config", cfg)
	assert.Contains(t, show, "007003")
	assert.Contains(t, txnCmd(t, "stats", "--config", cfg), "3 transactions")

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	exit := <-p.done
	p.done <- exit
	require.NoError(t, exit)
	assert.Contains(t, open["journal"], "xxxxx", "the DSN is logged masked")
	for _, l := range p.lines() {
		require.NotContains(t, l, ":cardswitch@", "a DSN password in the log")
	}
}

func txnCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"txn"}, args...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

// TestTxnPostgresFromEnv: without --config, CARDSWITCH_JOURNAL_POSTGRES
// names the journal the queries read; a --journal file with it is
// refused, and txn advices (SQLite only) says so for a PostgreSQL config.
func TestTxnPostgresFromEnv(t *testing.T) {
	dsn := pgtest.DSN(t)
	j, err := journal.OpenPG(context.Background(), dsn, journal.PGOptions{Node: "sw-1"})
	require.NoError(t, err)
	for i := 1; i <= 4; i++ {
		j.Append(&journal.Entry{Time: time.Now(), Issuer: "bank", MTI: "0100", STAN: fmt.Sprintf("%06d", i),
			ResponseCode: "00", Outcome: journal.Approved}, nil)
	}
	require.NoError(t, j.Close())
	t.Setenv("CARDSWITCH_JOURNAL_POSTGRES", dsn)
	out, err := runTxn(t, "stats")
	require.NoError(t, err, out)
	assert.Contains(t, out, "4 transactions")
	_, err = runTxn(t, "stats", "--journal", "other.db")
	require.ErrorContains(t, err, "--journal names a SQLite journal, and the config or CARDSWITCH_JOURNAL_POSTGRES a PostgreSQL one")

	key := writeFile(t, "k", strings.Repeat("5a", 32)+"\n")
	cfg := writeFile(t, "c.yaml", "issuers: [{name: a, endpoints: [\"127.0.0.1:9\"]}]\nroutes: [{bin: \"4\", issuer: a}]\n"+
		"journal: {key_file: "+key+"}\n")
	_, err = runTxn(t, "advices", "--config", cfg)
	require.ErrorContains(t, err, "journal.postgres: this command reads the SQLite journal only")
}
