package main

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 23 point 7, the database restarted under load: two nodes on a
// PostgreSQL of the test's own, load on both; the database is stopped for
// longer than the lease and started again. The nodes keep answering
// meanwhile, journaling into their spools (no card number in them): a new
// authorization is answered 91 without reaching the issuer (its duplicate
// claim cannot be decided), a request already sent gets its answer, and a
// timeout (91) stores its reversal in the spool. They replay the spools
// when the database is back, and every answer any acquirer received is
// then in the journal with its code. Each request that reached the issuer
// and was answered 91 is reversed once the database is back, exactly
// once but for an acknowledgement the database went down before
// recording; none that did not reach it is. No node takes the other's requests
// in flight for a dead node's when both come back: no answered request is
// reversed.
func TestClusterPostgresRestartedUnderLoad(t *testing.T) {
	srv := pgtest.StartServer(t)
	sim := startCrashSim(t, config.Simulator{Latency: 50 * time.Millisecond,
		Rules: []config.SimRule{{PANSuffix: "0009", NoAnswer: true}}})
	spools := t.TempDir()
	nodes, addrs := startCluster(t, srv.DSN(), spools, sim.Addr(), sim.Addr())
	var stop atomic.Bool
	var clients []*loadClient
	var waits []func()
	for i, addr := range addrs {
		cs, wait := runClientsFrom(addr, 1+3*i, 3, false, func(seq int) string {
			switch {
			case stop.Load():
				return ""
			case seq%10 == 0:
				return "4111111111110009" // a timeout: 91, a reversal stored
			}
			return "4111111111111111"
		})
		clients, waits = append(clients, cs...), append(waits, wait)
	}
	sim.wait(t, "load flowing", count("0100", 100))
	meanwhile := databaseDown(t, srv, sim, nodes, spools)
	stop.Store(true)
	for _, w := range waits {
		w()
	}

	reached := map[string]bool{}
	for _, r := range sim.wait(t, "", func([]issuersim.Request) bool { return true }) {
		if r.MTI == "0100" {
			reached[r.RRN] = true
		}
	}
	timeouts, refused := map[string]bool{}, 0
	for _, c := range clients {
		assert.Equal(t, c.sent, len(c.answers), "client %d: every request answered (%v)", c.id, c.lastErr)
		for _, a := range only(c.answers, "91") {
			if reached[a.RRN] {
				timeouts[a.RRN] = true
			} else {
				refused++
			}
		}
	}
	assertAllJournaled(t, srv.DSN(), clients)
	require.NotEmpty(t, timeouts)
	require.NotZero(t, refused, "requests answered 91 without reaching the issuer while the database was down")
	sim.wait(t, "a reversal for each timeout", func(rs []issuersim.Request) bool {
		return len(reversalsByRRN(rs)) >= len(timeouts)
	})
	db := pgConn(t, srv.DSN())
	require.Eventually(t, func() bool { return countRows(t, db, `SELECT count(*) FROM reversals`) == 0 },
		crashDeadline, 10*time.Millisecond, "reversals not acknowledged")
	// An acknowledgement that came as the database went down could not be
	// recorded: its reversal is still owed, and sent again once it is back.
	unrecorded, repeats := 0, 0
	for _, p := range nodes {
		unrecorded += logCountLimited(p, "cannot record reversal acknowledgement")
	}
	for rrn, n := range reversalsByRRN(sim.wait(t, "", func([]issuersim.Request) bool { return true })) {
		assert.True(t, timeouts[rrn], "rrn %s reversed: answered 00", rrn)
		repeats += n - 1
	}
	assert.LessOrEqual(t, repeats, unrecorded, "reversals repeated though their acknowledgements were recorded")
	// And each of those goes out as a repeat: the node remembers that it
	// went out though the database still holds its 0420.
	assertRepeatsAre0421(t, sim.wait(t, "", func([]issuersim.Request) bool { return true }), timeouts)
	left, _ := filepath.Glob(filepath.Join(spools, "*.spool"))
	assert.Empty(t, left, "spools replayed and removed")
	t.Logf("%d timeouts; %d refused unsent; %d requests reached the issuer while the database was down; "+
		"%d acknowledgements not recorded, %d reversals repeated", len(timeouts), refused, meanwhile, unrecorded, repeats)
}

// databaseDown stops srv under the nodes' load for longer than the lease
// (four failed heartbeats each), checks their spools hold no card number,
// starts it again and returns once both replayed their spools and beat
// for another lease (a takeover would have happened by then). Each node
// must have refused a request meanwhile (its claim undecided). It returns
// how many requests reached the issuer meanwhile.
func databaseDown(t *testing.T, srv *pgtest.Server, sim *crashSim, nodes []*proc, spools string) int {
	t.Helper()
	srv.Stop()
	before := len(sim.wait(t, "", func([]issuersim.Request) bool { return true }))
	for _, p := range nodes {
		// Spooling starts with the first write that fails: a group write's,
		// or a timeout reversal's.
		p.waitLogAny(t, "journal.postgres: database unreachable: writes go to the local spool until it is back; "+
			"answers still go out", "journal.postgres: reversals not stored in the database: kept in the local spool")
		awaitLogCount(t, p, "journal.postgres: heartbeat failed: past cluster.lease other nodes take over "+
			"this node's reversals owed and requests in flight", 4)
	}
	for _, p := range nodes {
		p.waitLog(t, "transaction", map[string]string{
			"reason": "duplicate check across nodes failed: the database did not take the claim"})
	}
	meanwhile := len(sim.wait(t, "", func([]issuersim.Request) bool { return true })) - before
	assertNoCardOnDisk(t, spools, "4111111111111111")
	beats := make([]int, len(nodes))
	for i, p := range nodes {
		beats[i] = logCount(p, "journal.postgres: heartbeat")
	}
	srv.Start()
	for i, p := range nodes {
		p.waitLog(t, "journal.postgres: database reachable again: spool replayed", nil)
		awaitLogCount(t, p, "journal.postgres: heartbeat", beats[i]+4)
	}
	return meanwhile
}

// logCount is how many times p logged msg.
func logCount(p *proc, msg string) int {
	k := 0
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		if l != nil && l["msg"] == msg {
			k++
		}
	}
	return k
}

// logCountLimited is how many times p logged msg, counting the lines the
// log's rate limit suppressed.
func logCountLimited(p *proc, msg string) int {
	k := logCount(p, msg)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		if l != nil && l["msg"] == "log lines suppressed by the rate limit" && l["message"] == msg {
			n, _ := l["suppressed"].(float64)
			k += int(n)
		}
	}
	return k
}

// awaitLogCount waits until p logged msg n times.
func awaitLogCount(t *testing.T, p *proc, msg string, n int) {
	t.Helper()
	deadline := time.After(crashDeadline)
	for {
		k := logCount(p, msg)
		if k >= n {
			return
		}
		select {
		case <-p.seen:
		case <-deadline:
			t.Fatalf("%q logged %d times, want %d", msg, k, n)
		}
	}
}
