package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clusterYAML is crashYAML's node (issuer timeout 1s) on the PostgreSQL
// journal dsn, with a short lease (takeovers within seconds); its spool in
// spoolDir.
func clusterYAML(node, dsn, key, simAddr, spoolDir string) string {
	y, sqlite := crashYAML("", simAddr, "1s"), "journal:\n  path: \"\"\n"
	if !strings.Contains(y, sqlite) {
		panic("crashYAML has no journal.path line to replace")
	}
	return strings.Replace(y, sqlite,
		fmt.Sprintf("journal: {path: \"\", postgres: '%s', key_file: %s, spool: %s}\ncluster: {node: %s, lease: 2s}\n",
			dsn, key, filepath.Join(spoolDir, node+".spool"), node), 1)
}

// Point 4 of issue 23 with real processes: three nodes on one database,
// load on each; sw-1 is killed with -9 while it owes reversals (its
// issuer endpoint drops every one) and while requests of its are in
// flight (held by the issuer). Every answer any acquirer received is in
// the journal with its code, and the survivors deliver each of sw-1's
// reversals owed and a reversal for each of its requests in flight, each
// acknowledged exactly once. The survivors reach the same issuer at
// another endpoint (sim B), which drops the first attempt of each
// reversal: the second, the acknowledged one, is a repeat (0421).
func TestClusterKill9SurvivorsDeliverOwedAndInFlightReversals(t *testing.T) {
	dsn := pgtest.DSN(t)
	const node1Clients, heldAt = 3, 30
	rules := []config.SimRule{{PANSuffix: "0009", NoAnswer: true}, {PANSuffix: "0007", Delay: time.Hour}}
	simA := startCrashSim(t, config.Simulator{ReversalDrop: 1 << 30, Rules: rules})
	simB := startCrashSim(t, config.Simulator{ReversalDrop: 1, Rules: rules})
	key := writeFile(t, "journal.key", strings.Repeat("5a", 32)+"\n")
	nodes := make([]*proc, 3)
	addrs := make([]string, 3)
	for i := range nodes {
		sim := simB.Addr()
		if i == 0 {
			sim = simA.Addr()
		}
		name := fmt.Sprintf("sw-%d", i+1)
		nodes[i] = startServe(t, "--config", writeFile(t, name+".yaml", clusterYAML(name, dsn, key, sim, t.TempDir())))
		addrs[i] = nodes[i].waitLog(t, "cardswitch listening", nil)["addr"].(string)
		nodes[i].waitLog(t, "issuer link up", nil)
	}

	// sw-1's clients: timeouts (91, a reversal owed) every 7th request,
	// then one the issuer holds, which they wait for.
	dead, deadDone := runClientsFrom(addrs[0], 1, node1Clients, false, func(seq int) string {
		switch {
		case seq == heldAt:
			return heldPAN
		case seq%7 == 0:
			return "4111111111110009"
		}
		return "4111111111111111"
	})
	// The survivors' clients: approvals only, 80 each.
	var live []*loadClient
	var liveDone []func()
	for i, addr := range addrs[1:] {
		cs, wait := runClientsFrom(addr, 4+2*i, 2, false, func(seq int) string {
			if seq > 80 {
				return ""
			}
			return "4111111111111111"
		})
		live, liveDone = append(live, cs...), append(liveDone, wait)
	}
	simA.wait(t, "sw-1's held requests", func(rs []issuersim.Request) bool { return len(heldOf(rs)) == node1Clients })
	db := pgConn(t, dsn)
	owed := countRows(t, db, `SELECT count(*) FROM reversals WHERE node = 'sw-1'`)
	require.Positive(t, owed, "sw-1 owes reversals when it is killed")
	require.NoError(t, nodes[0].cmd.Process.Kill())
	killed := time.Now()
	deadDone()
	<-nodes[0].done
	nodes[0].done <- nil
	for _, w := range liveDone {
		w()
	}

	// What sw-1's issuer received and no acquirer got an approval for: its
	// timeouts (91) and its held requests.
	approved := map[string]bool{}
	for _, c := range append(dead, live...) {
		for _, a := range c.answers {
			if a.Code == "00" {
				approved[a.RRN] = true
			}
		}
	}
	unanswered := map[string]bool{}
	for _, r := range simA.wait(t, "", func([]issuersim.Request) bool { return true }) {
		if r.MTI == "0100" && !approved[r.RRN] {
			unanswered[r.RRN] = true
		}
	}
	require.Len(t, unanswered, int(owed)+node1Clients)
	acked := func(rs []issuersim.Request) map[string]int { // RRN -> attempts at sim B
		out := map[string]int{}
		for _, r := range reversalAttemptsOf(rs) {
			out[r.RRN]++
		}
		return out
	}
	simB.wait(t, "the survivors' reversals of sw-1's requests", func(rs []issuersim.Request) bool {
		a := acked(rs)
		for rrn := range unanswered {
			if a[rrn] < 2 {
				return false
			}
		}
		return true
	})
	took := time.Since(killed)
	require.Eventually(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM reversals`) == 0 &&
			countRows(t, db, `SELECT count(*) FROM inflight WHERE node = 'sw-1'`) == 0
	}, crashDeadline, 10*time.Millisecond, "reversals or in-flight records left")
	t.Logf("sw-1 killed with %d reversals owed and %d requests in flight: all acknowledged at the survivors' "+
		"issuer %v after the kill (lease 2s + retry_min 50ms, a first attempt dropped)", owed, node1Clients, took)

	rs := simB.wait(t, "", func([]issuersim.Request) bool { return true })
	a := acked(rs)
	for rrn := range unanswered {
		assert.Equal(t, 2, a[rrn], "rrn %s: attempts at the survivors' issuer (one dropped, one acknowledged)", rrn)
	}
	for _, r := range reversalAttemptsOf(rs) {
		if unanswered[r.RRN] {
			continue
		}
		assert.False(t, approved[r.RRN], "approved request rrn %s reversed", r.RRN)
	}
	assertRepeatsAre0421(t, rs, unanswered)

	j, err := journal.OpenPG(context.Background(), dsn, journal.PGOptions{Node: "check", ReadOnly: true})
	require.NoError(t, err)
	defer j.Close()
	total := 0
	for _, c := range append(dead, live...) {
		total += len(c.answers)
		assertJournaled(t, j, c.id, c.answers)
	}
	require.Positive(t, total)
}

// assertRepeatsAre0421: every attempt at a reversal after its first is a
// repeat (0421).
func assertRepeatsAre0421(t *testing.T, rs []issuersim.Request, of map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range reversalAttemptsOf(rs) {
		if !of[r.RRN] {
			continue
		}
		if seen[r.RRN] {
			assert.Equal(t, "0421", r.MTI, "rrn %s: a repeated reversal", r.RRN)
		}
		seen[r.RRN] = true
	}
}

func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func countRows(t *testing.T, db *pgx.Conn, query string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.QueryRow(context.Background(), query).Scan(&n))
	return n
}
