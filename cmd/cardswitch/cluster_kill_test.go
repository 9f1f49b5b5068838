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

// killNodeYAML is crashYAML's node (issuer timeout 1s) on the PostgreSQL
// journal dsn, with a short lease (takeovers within seconds); its spool in
// spoolDir.
func killNodeYAML(node, dsn, key, simAddr, spoolDir string) string {
	y, sqlite := crashYAML("", simAddr, "1s"), "journal:\n  path: \"\"\n"
	if !strings.Contains(y, sqlite) {
		panic("crashYAML has no journal.path line to replace")
	}
	return strings.Replace(y, sqlite,
		fmt.Sprintf("journal: {path: \"\", postgres: '%s', key_file: %s, spool: %s}\ncluster: {node: %s, lease: 2s}\n",
			dsn, key, filepath.Join(spoolDir, node+".spool"), node), 1)
}

// startCluster starts node sw-<i+1> on dsn for each issuer address in
// sims (its issuer's endpoint), all with one journal key and their spools
// in spoolDir, and returns them with their listening addresses once each
// has its issuer link up.
func startCluster(t *testing.T, dsn, spoolDir string, sims ...string) ([]*proc, []string) {
	t.Helper()
	key := writeFile(t, "journal.key", strings.Repeat("5a", 32)+"\n")
	var nodes []*proc
	var addrs []string
	for i, sim := range sims {
		name := fmt.Sprintf("sw-%d", i+1)
		p := startServe(t, "--config", writeFile(t, name+".yaml", killNodeYAML(name, dsn, key, sim, spoolDir)))
		addrs = append(addrs, p.waitLog(t, "cardswitch listening", nil)["addr"].(string))
		p.waitLog(t, "issuer link up", nil)
		nodes = append(nodes, p)
	}
	return nodes, addrs
}

// Point 4 of issue 23 with real processes: three nodes on one database,
// load on each; sw-1 is killed with -9 while it owes reversals (its
// issuer endpoint, sim A, drops every one) and while requests of its are
// in flight (held by the issuer). Every answer any acquirer received is in
// the journal with its code, and the survivors deliver each of sw-1's
// reversals owed and a reversal for each of its requests in flight, each
// acknowledged exactly once. The survivors reach the same issuer at
// another endpoint (sim B), which drops the first attempt of each
// reversal: the second, the acknowledged one, is a repeat (0421).
func TestClusterKill9SurvivorsDeliverOwedAndInFlightReversals(t *testing.T) {
	dsn := pgtest.DSN(t)
	const node1Clients = 3
	rules := []config.SimRule{{PANSuffix: "0009", NoAnswer: true}, {PANSuffix: "0007", Delay: time.Hour}}
	simA := startCrashSim(t, config.Simulator{ReversalDrop: 1 << 30, Rules: rules})
	simB := startCrashSim(t, config.Simulator{ReversalDrop: 1, Rules: rules})
	nodes, addrs := startCluster(t, dsn, t.TempDir(), simA.Addr(), simB.Addr(), simB.Addr())
	clients, dead, live := killLoad(addrs, node1Clients)
	simA.wait(t, "sw-1's held requests", func(rs []issuersim.Request) bool { return len(heldOf(rs)) == node1Clients })
	db := pgConn(t, dsn)
	owed := countRows(t, db, `SELECT count(*) FROM reversals WHERE node = 'sw-1'`)
	require.Positive(t, owed, "sw-1 owes reversals when it is killed")
	require.NoError(t, nodes[0].cmd.Process.Kill())
	killed := time.Now()
	dead()
	<-nodes[0].done
	nodes[0].done <- nil
	live()

	unanswered := unapprovedAt(simA, clients)
	require.Len(t, unanswered, int(owed)+node1Clients, "sw-1's timeouts and held requests")
	simB.wait(t, "the survivors' reversals of sw-1's requests", func(rs []issuersim.Request) bool {
		a := reversalsByRRN(rs)
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
	a := reversalsByRRN(rs)
	for rrn := range unanswered {
		assert.Equal(t, 2, a[rrn], "rrn %s: attempts at the survivors' issuer (one dropped, one acknowledged)", rrn)
	}
	own := unapprovedAt(simB, clients) // a survivor's own timeout on a loaded machine
	for rrn := range a {
		assert.True(t, unanswered[rrn] || own[rrn], "rrn %s reversed: approved", rrn)
	}
	assertRepeatsAre0421(t, rs, unanswered)
	assertAllJournaled(t, dsn, clients)
}

// killLoad starts the load of the kill test: on sw-1 (addrs[0]) n clients
// with a timeout (91, a reversal owed) every 7th request, then one the
// issuer holds, which they wait for; on each other node two clients with
// 80 approvals each. It returns every client and waits for sw-1's clients
// and for the others.
func killLoad(addrs []string, n int) (all []*loadClient, dead, live func()) {
	all, dead = runClientsFrom(addrs[0], 1, n, false, func(seq int) string {
		switch {
		case seq == 30:
			return heldPAN
		case seq%7 == 0:
			return "4111111111110009"
		}
		return "4111111111111111"
	})
	var waits []func()
	for i, addr := range addrs[1:] {
		cs, wait := runClientsFrom(addr, n+1+2*i, 2, false, func(seq int) string {
			if seq > 80 {
				return ""
			}
			return "4111111111111111"
		})
		all, waits = append(all, cs...), append(waits, wait)
	}
	return all, dead, func() {
		for _, w := range waits {
			w()
		}
	}
}

// unapprovedAt is the RRNs of the 0100s sim received that no client got
// an approval for.
func unapprovedAt(sim *crashSim, clients []*loadClient) map[string]bool {
	approved := map[string]bool{}
	for _, c := range clients {
		for _, a := range only(c.answers, "00") {
			approved[a.RRN] = true
		}
	}
	out := map[string]bool{}
	sim.mu.Lock()
	defer sim.mu.Unlock()
	for _, r := range sim.reqs {
		if r.MTI == "0100" && !approved[r.RRN] {
			out[r.RRN] = true
		}
	}
	return out
}

// reversalsByRRN counts the reversal attempts (0420 and 0421) per RRN.
func reversalsByRRN(rs []issuersim.Request) map[string]int {
	out := map[string]int{}
	for _, r := range reversalAttemptsOf(rs) {
		out[r.RRN]++
	}
	return out
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

// assertAllJournaled: every answer any client received is in the journal
// on dsn with the code it saw.
func assertAllJournaled(t *testing.T, dsn string, clients []*loadClient) {
	t.Helper()
	j, err := journal.OpenPG(context.Background(), dsn, journal.PGOptions{Node: "check", ReadOnly: true})
	require.NoError(t, err)
	defer j.Close()
	total := 0
	for _, c := range clients {
		total += len(c.answers)
		assertJournaled(t, j, c.id, c.answers)
	}
	require.Positive(t, total)
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
