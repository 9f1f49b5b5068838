package main

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A journal with stand-in decisions, a late answer that disagreed, and an
// advice past its TTL: txn advices lists the advice (PAN masked), txn
// stats counts the decisions and the late answers, txn list --outcome
// stand-in finds the decisions.
func TestTxnAdvicesAndStandInStats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardswitch.db")
	var key [32]byte
	key[0] = 7
	require.NoError(t, os.WriteFile(path+".key", []byte(hex.EncodeToString(key[:])+"\n"), 0o600))
	j, err := journal.Open(path, journal.Options{Keys: [][32]byte{key}})
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	for i, e := range []journal.Entry{
		{ResponseCode: "00", Outcome: journal.StandIn, Reason: "stand-in (issuer has no live link): within the limits"},
		{ResponseCode: "61", Outcome: journal.StandIn, Reason: "stand-in (issuer timed out): amount over max_amount"},
		{ResponseCode: "05", Outcome: journal.Late, Reason: "stand-in 00 disagreed: the issuer answered 05 after the switch stood in; not relayed"},
		{ResponseCode: "00", Outcome: journal.Approved},
	} {
		e.Time, e.Issuer, e.MTI, e.STAN = txnT0.Add(time.Duration(i)*time.Minute), "bank-a", "0100", "00000"+string(rune('1'+i))
		j.Append(&e, nil)
	}
	require.NoError(t, j.Flush(context.Background()))
	m, err := acqclient.Request{MTI: "0120", PAN: "4111111111111111", Amount: 5000, STAN: 1, RRN: "000000000001",
		Fields: map[int]string{38: "S00001", 39: "00", 60: "STIP01"}}.Message()
	require.NoError(t, err)
	frame, err := m.Pack()
	require.NoError(t, err)
	_, err = j.AddReversal(context.Background(), &journal.Reversal{Created: txnT0, Issuer: "bank-a", STAN: "000001",
		RRN: "000000000001", Frame: frame, Kind: journal.KindStandIn})
	require.NoError(t, err)
	n, err := j.ExpireAdvices("bank-a", txnT0.Add(time.Second), txnT0.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)

	out, err := runTxn(t, "advices", "--journal", path)
	require.NoError(t, err)
	assert.Contains(t, out, "stand-in advices owed: 0; on the exception list: 1")
	assert.Regexp(t, `(?m)^1\s+2025-03-01T12:00:00Z\s+bank-a\s+000001\s+000000000001\s+411111\*\*\*\*\*\*1111\s+000000005000\s+00\s+S00001\s+STIP01\s+0\s+2025-03-01T13:00:00Z`, out)
	assert.NotContains(t, out, "4111111111111111")

	out, err = runTxn(t, "stats", "--journal", path)
	require.NoError(t, err)
	assert.Contains(t, out, "stand-in: 2 decisions, 1 approved; 1 late issuer answers, 1 disagreeing")

	out, err = runTxn(t, "list", "--outcome", "stand-in", "--journal", path)
	require.NoError(t, err)
	assert.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 3, "the header and the two decisions")
}
