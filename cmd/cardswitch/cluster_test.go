package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/jackc/pgx/v5"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Several real `serve` processes, one PostgreSQL journal: duplicates are
// decided across nodes by the database, and `cluster status` shows them.

// clusterYAML is a node's config: issuer bank at bankAddr, and routes
// (YAML list items) as given.
func clusterYAML(dsn, key, node, bankAddr, routes string) string {
	return fmt.Sprintf(`listen: {address: "127.0.0.1:0"}
admin: {address: ""}
issuers:
  - {name: bank, endpoints: [%s], connect_timeout: 2s, reconnect_min: 10ms, reconnect_max: 100ms}
routes:
%s
journal: {path: "", postgres: '%s', key_file: %s, spool: %s}
cluster: {node: %s, lease: 3s}
`, bankAddr, routes, dsn, key, filepath.Join(filepath.Dir(key), node+".spool"), node)
}

const clusterRoutes = `  - {bin: "4", issuer: bank}`

// startNode runs serve on yaml (written to cfg) and returns its acquirer
// address, once its link to the issuer is up (up false: not waited for).
func startNode(t *testing.T, yaml string, up bool) (addr, cfg string) {
	t.Helper()
	cfg = writeFile(t, "node.yaml", yaml)
	p := startServe(t, "--config", cfg)
	addr = p.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	if up {
		p.waitLog(t, "issuer link up", nil)
	}
	return addr, cfg
}

// clusterMessage is the same request each time it is built for stan:
// its transmission time is fixed.
func clusterMessage(stan int) (*iso8583.Message, error) {
	return acqclient.Request{PAN: "4111111111111111", Amount: 100, STAN: stan, RRN: fmt.Sprintf("%012d", stan),
		Terminal: "TERM0001", Time: time.Date(2026, 12, 7, 10, 10, 10, 0, time.UTC)}.Message()
}

func clusterRequest(t *testing.T, stan int) *iso8583.Message {
	t.Helper()
	m, err := clusterMessage(stan)
	require.NoError(t, err)
	return m
}

func sendCode(t *testing.T, c *acqclient.Client, m *iso8583.Message) string {
	t.Helper()
	resp, err := c.Send(m)
	require.NoError(t, err)
	code, _ := resp.GetString(39)
	return code
}

func dialNode(t *testing.T, addr string) *acqclient.Client {
	t.Helper()
	c, err := acqclient.Dial(addr, 10*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestClusterDuplicateAcrossNodes: the same request to node A, then to
// node B, is answered 94 by B and reaches the issuer once; the same
// requests sent to both nodes at once reach the issuer once each, one
// node answering 00 and the other 94.
func TestClusterDuplicateAcrossNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	sim := startCrashSim(t, config.Simulator{})
	key := writeFile(t, "journal.key", strings.Repeat("5a", 32)+"\n")
	addrA, cfgA := startNode(t, clusterYAML(dsn, key, "sw-a", sim.Addr(), clusterRoutes), true)
	addrB, _ := startNode(t, clusterYAML(dsn, key, "sw-b", sim.Addr(), clusterRoutes), true)
	a, b := dialNode(t, addrA), dialNode(t, addrB)

	assert.Equal(t, "00", sendCode(t, a, clusterRequest(t, 1)))
	assert.Equal(t, "94", sendCode(t, b, clusterRequest(t, 1)), "node B answers A's request as a duplicate")

	const n = 40
	codes := [2][n]string{}
	var wg sync.WaitGroup
	for i, c := range []*acqclient.Client{dialNode(t, addrA), dialNode(t, addrB)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range n {
				m, err := clusterMessage(100 + k)
				if err != nil {
					codes[i][k] = err.Error()
					continue
				}
				resp, err := c.Send(m)
				if err != nil {
					codes[i][k] = err.Error()
					continue
				}
				codes[i][k], _ = resp.GetString(39)
			}
		}()
	}
	wg.Wait()
	for k := range n {
		got := []string{codes[0][k], codes[1][k]}
		assert.ElementsMatch(t, []string{"00", "94"}, got, "stan %d sent to both nodes at once", 100+k)
	}
	rrns := map[string]int{}
	for _, r := range sim.wait(t, "the requests", count("0100", 1+n)) {
		if r.MTI == "0100" {
			rrns[r.RRN]++
		}
	}
	assert.Len(t, rrns, 1+n)
	for rrn, k := range rrns {
		assert.Equal(t, 1, k, "RRN %s reached the issuer %d times", rrn, k)
	}
	assertNodesInTxn(t, cfgA)
	assertReversalOnOtherNode(t, sim, a, b)

	// The database cannot take the claim: 91, and the issuer never sees it.
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(context.Background(), `DROP TABLE dupclaims`)
	require.NoError(t, err)
	assert.Equal(t, "91", sendCode(t, a, clusterRequest(t, 9)), "no claim, no authorization")
	_, err = conn.Exec(context.Background(), `CREATE TABLE dupclaims (key BYTEA PRIMARY KEY, node TEXT NOT NULL,
		run BIGINT NOT NULL, seq BIGINT NOT NULL, at_ns BIGINT NOT NULL, link_stan BIGINT NOT NULL)`)
	require.NoError(t, err)
	assert.Equal(t, "00", sendCode(t, a, clusterRequest(t, 10)), "a probe after it, on the same link")
	for _, r := range sim.wait(t, "the probe", func(rs []issuersim.Request) bool { return rs[len(rs)-1].RRN == "000000000010" }) {
		assert.NotEqual(t, "000000000009", r.RRN, "a request whose claim failed reached the issuer")
	}
}

// assertReversalOnOtherNode: an acquirer's 0420 sent to node B for an
// original that node A relayed is relayed to the issuer, its 90 naming the
// STAN the issuer saw on A's link (B's own window does not know the
// original; A's claim in the database does), not refused 25; one naming
// an original no node relayed within the window is refused 25.
func assertReversalOnOtherNode(t *testing.T, sim *crashSim, a, b *acqclient.Client) {
	t.Helper()
	now := time.Now().UTC()
	orig, err := acqclient.Request{PAN: "4111111111111111", Amount: 100, STAN: 500, RRN: "000000000500",
		Terminal: "TERM0001", Time: now}.Message()
	require.NoError(t, err)
	require.Equal(t, "00", sendCode(t, a, orig))
	rev, err := acqclient.Request{MTI: "0420", PAN: "4111111111111111", Amount: 100, STAN: 501, RRN: "000000000500",
		Terminal: "TERM0001", Time: now, Fields: map[int]string{
			90: "0100000500" + now.Format("0102150405") + strings.Repeat("0", 22)}}.Message()
	require.NoError(t, err)
	assert.Equal(t, "00", sendCode(t, b, rev), "a reversal of another node's original reaches the issuer")
	var linkSTAN string
	for _, r := range sim.wait(t, "the reversal", count("0420", 1)) {
		switch {
		case r.MTI == "0100" && r.RRN == "000000000500":
			linkSTAN = r.STAN
		case r.MTI == "0420":
			require.Len(t, r.Original, 42)
			assert.Equal(t, linkSTAN, r.Original[4:10], "90 names the original as the issuer saw it, from A's link")
		}
	}
	require.NotEmpty(t, linkSTAN)
	require.NotEqual(t, "000500", linkSTAN, "the test needs a link STAN other than the acquirer's")
	rev, err = acqclient.Request{MTI: "0420", PAN: "4111111111111111", Amount: 100, STAN: 503, RRN: "000000000502",
		Terminal: "TERM0001", Time: now, Fields: map[int]string{
			90: "0100000502" + now.Format("0102150405") + strings.Repeat("0", 22)}}.Message()
	require.NoError(t, err)
	assert.Equal(t, "25", sendCode(t, b, rev), "no node relayed its original")
}

// assertNodesInTxn: txn list, show and stats, run with one node's config,
// show every node's entries and name the node of each.
func assertNodesInTxn(t *testing.T, cfg string) {
	t.Helper()
	list := txnCmd(t, "list", "--rrn", "000000000001", "--config", cfg)
	assert.Regexp(t, `(?m)^ID\s+NODE\s+TIME`, list)
	assert.Regexp(t, `(?m)^\d+\s+sw-a\s.*\s00\s+approved`, list)
	assert.Regexp(t, `(?m)^\d+\s+sw-b\s.*\s94\s+duplicate`, list)
	js := txnCmd(t, "list", "--json", "--outcome", "duplicate", "--limit", "1", "--config", cfg)
	var e struct {
		ID   int64  `json:"id"`
		Node string `json:"node"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &e), js)
	assert.Contains(t, []string{"sw-a", "sw-b"}, e.Node)
	assert.Regexp(t, `(?m)^node:\s+`+e.Node+`$`, txnCmd(t, "show", fmt.Sprint(e.ID), "--config", cfg))
	stats := txnCmd(t, "stats", "--config", cfg)
	assert.Regexp(t, `(?m)^NODE\s+COUNT`, stats)
	assert.Regexp(t, `(?m)^sw-a\s+\d+`, stats)
	assert.Regexp(t, `(?m)^sw-b\s+\d+`, stats)
}

// silentIssuer accepts connections and never answers: a link to it never
// signs on, so a switch refuses its requests (91) before any issuer sees
// them.
func silentIssuer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// TestClusterStatus: three nodes, the third with another routing and its
// issuer unreachable. A request it refused (91, no issuer saw it) is not a
// duplicate for the others. `cluster status` lists the three, their live
// links, and flags the third's routing (--config, and
// CARDSWITCH_JOURNAL_POSTGRES with --json).
func TestClusterStatus(t *testing.T) {
	dsn := pgtest.DSN(t)
	sim := startCrashSim(t, config.Simulator{})
	key := writeFile(t, "journal.key", strings.Repeat("5a", 32)+"\n")
	cfgA := writeFile(t, "a.yaml", clusterYAML(dsn, key, "sw-a", sim.Addr(), clusterRoutes))
	pa := startServe(t, "--config", cfgA)
	addrA := pa.waitLog(t, "cardswitch listening", nil)["addr"].(string)
	pa.waitLog(t, "issuer link up", nil)
	startNode(t, clusterYAML(dsn, key, "sw-b", sim.Addr(), clusterRoutes), true)
	addrC, _ := startNode(t, clusterYAML(dsn, key, "sw-c", silentIssuer(t),
		clusterRoutes+"\n  - {bin: \"5\", issuer: bank}"), false)

	assert.Equal(t, "91", sendCode(t, dialNode(t, addrC), clusterRequest(t, 7)), "C has no live link")
	assert.Equal(t, "00", sendCode(t, dialNode(t, addrA), clusterRequest(t, 7)),
		"a request no issuer saw is not a duplicate on another node")

	nodes := awaitStatus(t, cfgA, func(ns []journal.NodeStatus) bool {
		return len(ns) == 3 && ns[0].Links["bank"] == 1 && ns[1].Links["bank"] == 1
	})
	for _, n := range nodes {
		assert.True(t, n.Live, n.Node)
		assert.Equal(t, n.Node == "sw-c", n.RoutingDiffers, "%s: routing flagged", n.Node)
	}
	assert.Equal(t, 0, nodes[2].Links["bank"], "sw-c's link never signed on")
	assert.NotEqual(t, nodes[0].ConfigHash, nodes[1].ConfigHash, "each node's own file (node names differ)")

	out, err := exec.Command(binary, "cluster", "status", "--config", cfgA).CombinedOutput()
	require.NoError(t, err, string(out))
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "sw-") {
			assert.Equal(t, strings.HasPrefix(l, "sw-c"), strings.Contains(l, "DIFFERS"), l)
			assert.Contains(t, l, "live", l)
		}
	}
	assert.Contains(t, string(out), "routing differs: sw-c")
	assert.Contains(t, string(out), "bank=1")
}

// awaitStatus runs `cluster status --json` (with CARDSWITCH_JOURNAL_POSTGRES
// from cfg's DSN, not --config) until ok holds for the nodes it lists:
// heartbeats come every lease/3.
func awaitStatus(t *testing.T, cfg string, ok func([]journal.NodeStatus) bool) []journal.NodeStatus {
	t.Helper()
	c, err := config.Load(cfg)
	require.NoError(t, err)
	deadline := time.Now().Add(20 * time.Second)
	for {
		cmd := exec.Command(binary, "cluster", "status", "--json")
		cmd.Env = append(os.Environ(), config.EnvName("journal.postgres")+"="+c.Journal.Postgres)
		out, err := cmd.Output()
		require.NoError(t, err, string(out))
		var st struct {
			Nodes []journal.NodeStatus `json:"nodes"`
		}
		require.NoError(t, json.Unmarshal(out, &st), string(out))
		if ok(st.Nodes) {
			return st.Nodes
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster status never showed the expected nodes:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond) // a heartbeat is a row in the database: nothing to wait on
	}
}
