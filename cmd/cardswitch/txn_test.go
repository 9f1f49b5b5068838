package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var txnT0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// txnJournal fills a journal the way the switch does and leaves it open
// for writing, so the commands are tested against a live file.
func txnJournal(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cardswitch.db")
	j, err := journal.Open(path, journal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	for i := 1; i <= 6; i++ {
		e := &journal.Entry{Time: txnT0.Add(time.Duration(i) * time.Minute), Acquirer: "acq-1", Issuer: "bank-a",
			MTI: "0100", ProcessingCode: "000000", Amount: "000000001000", Currency: "978",
			STAN: fmt.Sprintf("%06d", i), RRN: fmt.Sprintf("%012d", i), Terminal: "TERM0001",
			PAN: "411111******1111", ResponseCode: "00", Outcome: journal.Approved, Latency: time.Duration(i) * time.Millisecond}
		if i > 4 {
			e.Issuer, e.ResponseCode, e.Outcome = "", "15", journal.SwitchDeclined
		}
		j.Append(e, nil)
	}
	require.NoError(t, j.Flush(context.Background()))
	return path
}

func runTxn(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newTxn()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestTxnListTable(t *testing.T) {
	path := txnJournal(t)
	out, err := runTxn(t, "list", "--journal", path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 7)
	assert.Regexp(t, `^ID\s+TIME\s+ACQUIRER\s+ISSUER\s+MTI\s+STAN\s+RRN`, lines[0])
	assert.Regexp(t, `^6\s+2025-03-01T12:06:00.000Z\s+acq-1\s+-\s+0100\s+000006\s+000000000006\s+TERM0001\s+411111\*\*\*\*\*\*1111\s+000000001000\s+978\s+15\s+switch-declined\s+6ms$`, lines[1])
	assert.True(t, strings.HasPrefix(lines[6], "1 "), "newest first")
}

func TestTxnListJSONAndFilters(t *testing.T) {
	path := txnJournal(t)
	tests := []struct {
		name string
		args []string
		ids  []int64
	}{
		{"all", nil, []int64{6, 5, 4, 3, 2, 1}},
		{"limit", []string{"--limit", "2"}, []int64{6, 5}},
		{"rrn", []string{"--rrn", "000000000003"}, []int64{3}},
		{"stan", []string{"--stan", "000002"}, []int64{2}},
		{"issuer", []string{"--issuer", "bank-a", "--limit", "1"}, []int64{4}},
		{"code", []string{"--code", "15"}, []int64{6, 5}},
		{"outcome", []string{"--outcome", "approved", "--since", "2025-03-01T12:03:00Z"}, []int64{4, 3}},
		{"since duration", []string{"--since", "1h"}, nil}, // the sample is from 2025
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runTxn(t, append([]string{"list", "--json", "--journal", path}, tt.args...)...)
			require.NoError(t, err)
			var ids []int64
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l == "" {
					continue
				}
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(l), &m), l)
				for _, k := range []string{"id", "time", "acquirer", "issuer", "mti", "stan", "rrn", "terminal",
					"pan", "amount", "currency", "response_code", "outcome", "latency_ms"} {
					assert.Contains(t, m, k)
				}
				ids = append(ids, int64(m["id"].(float64)))
			}
			assert.Equal(t, tt.ids, ids)
		})
	}
	out, err := runTxn(t, "list", "--json", "--journal", path, "--rrn", "000000000001")
	require.NoError(t, err)
	var rec txnRecord
	require.NoError(t, json.Unmarshal([]byte(out), &rec))
	assert.Equal(t, txnRecord{ID: 1, Time: "2025-03-01T12:01:00Z", Acquirer: "acq-1", Issuer: "bank-a", MTI: "0100",
		ProcessingCode: "000000", STAN: "000001", RRN: "000000000001", Terminal: "TERM0001", PAN: "411111******1111",
		Amount: "000000001000", Currency: "978", ResponseCode: "00", Outcome: "approved", LatencyMS: 1,
		AcquirerDialect: "iso87ascii", IssuerDialect: "iso87ascii"}, rec)
}

func TestTxnShow(t *testing.T) {
	path := txnJournal(t)
	out, err := runTxn(t, "show", "--journal", path, "2")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^id:\s+2$`, out)
	assert.Regexp(t, `(?m)^pan:\s+411111\*\*\*\*\*\*1111$`, out)
	assert.Regexp(t, `(?m)^response code:\s+00 \(.+\)$`, out)
	assert.Regexp(t, `(?m)^latency:\s+2ms$`, out)
	// Written without dialects: iso87ascii, as every entry was before them.
	assert.Regexp(t, `(?m)^acquirer dialect:\s+iso87ascii$`, out)

	out, err = runTxn(t, "show", "--json", "--journal", path, "5")
	require.NoError(t, err)
	assert.Contains(t, out, `"outcome":"switch-declined"`)
}

func TestTxnStats(t *testing.T) {
	path := txnJournal(t)
	out, err := runTxn(t, "stats", "--journal", path)
	require.NoError(t, err)
	assert.Contains(t, out, "all entries: 6 transactions, 4 approved (66.67%)")
	assert.Regexp(t, `(?m)^bank-a\s+4\s+4\s+2ms\s+4ms\s+4ms\s+4ms$`, out)
	assert.Regexp(t, `(?m)^-\s+2\s+0\s+5ms\s+6ms\s+6ms\s+6ms$`, out)
	assert.Regexp(t, `(?m)^15\s+2\s+0\s+5ms`, out)

	out, err = runTxn(t, "stats", "--json", "--since", "2025-03-01T12:05:00Z", "--journal", path)
	require.NoError(t, err)
	var st struct {
		Since    string `json:"since"`
		Total    int    `json:"total"`
		ByIssuer []struct {
			Key string  `json:"key"`
			P99 float64 `json:"p99_ms"`
		} `json:"by_issuer"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	assert.Equal(t, "2025-03-01T12:05:00Z", st.Since)
	assert.Equal(t, 2, st.Total)
	require.Len(t, st.ByIssuer, 1)
	assert.Equal(t, 6.0, st.ByIssuer[0].P99)
}

func TestTxnErrors(t *testing.T) {
	path := txnJournal(t)
	missing := filepath.Join(t.TempDir(), "nope.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad since", []string{"list", "--since", "yesterday"}, `--since "yesterday": want a positive duration (15m, 24h) or an RFC 3339 time (2025-03-01T12:00:00Z)`},
		{"negative since", []string{"stats", "--since", "-1h"}, `--since "-1h": want a positive duration (15m, 24h) or an RFC 3339 time (2025-03-01T12:00:00Z)`},
		{"bad outcome", []string{"list", "--outcome", "ok"}, `--outcome "ok": want one of [approved declined switch-declined timed-out late reversed duplicate unmatched stand-in advised]`},
		{"bad id", []string{"show", "x"}, `txn show: ID "x": want an entry number`},
		{"unknown id", []string{"show", "99"}, "journal: entry 99 not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runTxn(t, append(tt.args, "--journal", path)...)
			require.EqualError(t, err, tt.want)
		})
	}
	_, err := runTxn(t, "list", "--journal", missing)
	require.ErrorContains(t, err, "no such file or directory")
	assert.NoFileExists(t, missing, "read-only: never creates a journal")
}

// TestTxnReadsEntriesOnlyInTheLog: a switch killed before its indexer
// caught up leaves durable entries that only its next start indexes; the
// txn commands read them from the log and say how far the index lags.
// The situation is built from real files: journal A's log segment, taken
// while A was open, becomes the log of an empty journal B.
func TestTxnReadsEntriesOnlyInTheLog(t *testing.T) {
	a := txnJournal(t) // open, 6 entries in its log
	segs, err := filepath.Glob(a + "-log/*.seg")
	require.NoError(t, err)
	require.Len(t, segs, 1)
	seg, err := os.ReadFile(segs[0])
	require.NoError(t, err)

	b := filepath.Join(t.TempDir(), "b.db")
	jb, err := journal.Open(b, journal.Options{})
	require.NoError(t, err)
	require.NoError(t, jb.Close())
	require.NoError(t, os.WriteFile(filepath.Join(b+"-log", filepath.Base(segs[0])), seg, 0o600))

	out, err := runTxn(t, "list", "--journal", b)
	require.NoError(t, err)
	assert.Contains(t, out, "index 6 entries / ")
	assert.Contains(t, out, " s behind the log; those entries read from the log")
	assert.Equal(t, 8, strings.Count(out, "\n"), "the lag, a header and the 6 entries")

	out, err = runTxn(t, "list", "--journal", a)
	require.NoError(t, err)
	assert.NotContains(t, out, "behind the log", "a's index holds all its entries")
}

// TestTxnReadsTheTailOfARunningSwitch: with a writer's indexer paused, an
// answered (logged) entry is visible to txn show and txn list, stats count
// it, and the commands say how far the index lags. They read the log
// beside the writer without taking its lock.
func TestTxnReadsTheTailOfARunningSwitch(t *testing.T) {
	gate := make(chan struct{})
	path := filepath.Join(t.TempDir(), "paused.db")
	j, err := journal.Open(path, journal.Options{IndexGate: gate})
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	t.Cleanup(func() { close(gate) }) // before the journal closes (cleanups run last first)
	e := &journal.Entry{Time: txnT0, Acquirer: "acq-1", Issuer: "bank-a", MTI: "0100", STAN: "000042",
		RRN: "000000000042", Terminal: "TERM0001", PAN: "411111******1111", ResponseCode: "00",
		Outcome: journal.Approved, Latency: 3 * time.Millisecond}
	j.Append(e, nil)
	require.NoError(t, j.FlushLog(context.Background()))
	require.Equal(t, 1, j.Lag(), "not indexed")

	out, err := runTxn(t, "show", fmt.Sprint(e.ID), "--journal", path)
	require.NoError(t, err)
	assert.Contains(t, out, "000000000042")
	assert.Contains(t, out, "index 1 entries / ")
	out, err = runTxn(t, "list", "--journal", path)
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^1\s+2025-03-01T12:00:00.000Z\s+acq-1\s+bank-a\s+0100\s+000042\s+000000000042`, out)
	out, err = runTxn(t, "stats", "--json", "--journal", path)
	require.NoError(t, err)
	assert.Contains(t, out, `"total":1,`)
}
