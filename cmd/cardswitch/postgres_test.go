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
// refused. txn advices reads the PostgreSQL journal too: an advice past
// its TTL is listed, opened with the config's key, its PAN masked.
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
	var k [32]byte
	for i := range k {
		k[i] = 0x5a
	}
	storeExpiredAdvice(t, dsn, k)
	out, err = runTxn(t, "advices", "--config", cfg)
	require.NoError(t, err, out)
	assert.Contains(t, out, "stand-in advices owed: 0; on the exception list: 1")
	assert.Regexp(t, `bank-a\s+000001\s+000000000001\s+411111\*\*\*\*\*\*1111\s+000000005000\s+00\s+S00001\s+STIP01`, out)
	assert.NotContains(t, out, "4111111111111111")
}

// storeExpiredAdvice stores a stand-in advice in the PostgreSQL journal
// at dsn, sealed with key, and moves it to the exception list.
func storeExpiredAdvice(t *testing.T, dsn string, key [32]byte) {
	t.Helper()
	j, err := journal.OpenPG(context.Background(), dsn, journal.PGOptions{Node: "sw-1", Keys: [][32]byte{key}})
	require.NoError(t, err)
	defer j.Close()
	m, err := acqclient.Request{MTI: "0120", PAN: "4111111111111111", Amount: 5000, STAN: 1, RRN: "000000000001",
		Fields: map[int]string{38: "S00001", 39: "00", 60: "STIP01"}}.Message()
	require.NoError(t, err)
	frame, err := m.Pack()
	require.NoError(t, err)
	require.NoError(t, j.StandIn(context.Background(), func(st *journal.StandInTx) error {
		return st.AddReversals([]*journal.Reversal{{Created: txnT0, Issuer: "bank-a", STAN: "000001",
			RRN: "000000000001", Frame: frame, Kind: journal.KindStandIn}})
	}))
	n, err := j.ExpireAdvices("bank-a", txnT0.Add(time.Second), txnT0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}
