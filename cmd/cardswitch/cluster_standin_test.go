package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/pgtest"
	"github.com/cardswitch/cardswitch/internal/porttest"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterStandInSharedAcrossNodes: two real nodes on one PostgreSQL
// journal stand in for an issuer that is down. A card's approvals on
// node A count on node B (max_count 3 reached across the nodes: 65 on
// either), the approval codes are distinct, the database holds no PAN
// in clear; once the issuer is up it receives one 0120 per decision,
// with the PAN, the amount and the decision, and acknowledges each (0130:
// the advices are no longer owed, each journaled `advised`).
func TestClusterStandInSharedAcrossNodes(t *testing.T) {
	dsn := pgtest.DSN(t)
	issuerAddr := porttest.Addr(t) // down, for nothing else to take, until the test starts the issuer there
	key := writeFile(t, "journal.key", strings.Repeat("5a", 32)+"\n")
	_, a := startStandInNode(t, dsn, key, "sw-a", issuerAddr)
	_, b := startStandInNode(t, dsn, key, "sw-b", issuerAddr)

	const cardX, cardY = "4111111111111111", "4000001234567899"
	ds := []clusterDecision{
		{a, cardX, 5000, "00", ""}, {b, cardX, 100, "00", ""}, {a, cardX, 200, "00", ""},
		{b, cardX, 300, "65", ""}, {a, cardX, 300, "65", ""}, // max_count reached across the nodes
		{b, cardY, 20000, "61", ""}, {b, cardY, 700, "00", ""},
	}
	approvals := map[string]bool{}
	for i := range ds {
		d := &ds[i]
		d.rrn = fmt.Sprintf("%012d", 500+i)
		m, err := acqclient.Request{PAN: d.pan, Amount: d.amount, STAN: 500 + i, RRN: d.rrn, Terminal: "TERM0001"}.Message()
		require.NoError(t, err)
		resp, err := d.c.Send(m)
		require.NoError(t, err)
		code, _ := resp.GetString(39)
		require.Equal(t, d.code, code, "decision %d (%s, %d)", i, d.pan[:6], d.amount)
		if code == "00" {
			ac, _ := resp.GetString(38)
			assert.Regexp(t, `^S[0-9A-Z]{5}$`, ac)
			assert.False(t, approvals[ac], "approval code %s given twice", ac)
			approvals[ac] = true
		}
	}
	db := pgConn(t, dsn)
	assert.Equal(t, int64(len(ds)), countRows(t, db, `SELECT count(*) FROM reversals WHERE kind = 'stand-in'`),
		"one advice per decision, stored before the answer")
	assertNoPANInDatabase(t, db, cardX, cardY)

	sim := startCrashSim(t, config.Simulator{Listen: issuerAddr}) // the issuer is back
	assertAdvicesDelivered(t, sim, db, ds)
	assertNoPANInDatabase(t, db, cardX, cardY)
}

// clusterDecision is a request sent to a node and the decision expected.
type clusterDecision struct {
	c         *acqclient.Client
	pan       string
	amount    int64
	code, rrn string
}

// assertAdvicesDelivered: the issuer received one 0120 of each of ds
// (0121 repeats allowed), with its PAN (masked by the simulator), amount
// and decision, and every advice was acknowledged and journaled.
func assertAdvicesDelivered(t *testing.T, sim *crashSim, db *pgx.Conn, ds []clusterDecision) {
	t.Helper()
	byRRN := func(rs []issuersim.Request) map[string][]issuersim.Request {
		out := map[string][]issuersim.Request{}
		for _, r := range rs {
			if r.MTI == "0120" || r.MTI == "0121" {
				out[r.RRN] = append(out[r.RRN], r)
			}
		}
		return out
	}
	got := byRRN(sim.wait(t, "an advice of every decision", func(rs []issuersim.Request) bool {
		return len(byRRN(rs)) == len(ds)
	}))
	for _, d := range ds {
		first := 0
		for _, r := range got[d.rrn] {
			if r.MTI == "0120" {
				first++
			}
			assert.Equal(t, d.pan[:6]+"******"+d.pan[len(d.pan)-4:], r.MaskedPAN, "RRN %s: the PAN in 2", d.rrn)
			assert.Equal(t, fmt.Sprintf("%012d", d.amount), r.Amount, "RRN %s", d.rrn)
			assert.Equal(t, d.code, r.Code, "RRN %s: the decision in 39", d.rrn)
		}
		assert.Equal(t, 1, first, "RRN %s: one 0120 per decision", d.rrn)
	}
	require.Eventually(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM reversals`) == 0 &&
			countRows(t, db, `SELECT count(*) FROM entries WHERE outcome = 'advised'`) == int64(len(ds))
	}, crashDeadline, 20*time.Millisecond, "every advice acknowledged (0130) and journaled")
}

// startStandInNode runs a cluster node whose issuer at issuerAddr has
// stand-in (max_amount 10000, max_count 3) and a client connected to it.
func startStandInNode(t *testing.T, dsn, key, name, issuerAddr string) (*proc, *acqclient.Client) {
	t.Helper()
	yaml := strings.Replace(clusterYAML(dsn, key, name, issuerAddr, clusterRoutes), "reconnect_max: 100ms}",
		"reconnect_max: 100ms, stand_in: {enabled: true, max_amount: 10000, max_count: 3, advice_rate: 1000}}", 1)
	require.Contains(t, yaml, "stand_in")
	p := startServe(t, "--config", writeFile(t, name+".yaml", yaml))
	return p, dialNode(t, p.waitLog(t, "cardswitch listening", nil)["addr"].(string))
}

// TestClusterStandInAdvicesOfKilledNodeDelivered: node A stands in for
// an issuer that is down and is killed (SIGKILL) before the issuer is
// back; once A's lease lapsed, node B claims A's advices and delivers
// them with its own, each acknowledged once.
func TestClusterStandInAdvicesOfKilledNodeDelivered(t *testing.T) {
	dsn := pgtest.DSN(t)
	issuerAddr := porttest.Addr(t) // down, for nothing else to take, until the test starts the issuer there
	key := writeFile(t, "journal.key", strings.Repeat("5a", 32)+"\n")
	pa, a := startStandInNode(t, dsn, key, "sw-a", issuerAddr)
	_, b := startStandInNode(t, dsn, key, "sw-b", issuerAddr)
	want := map[string]string{} // RRN -> decision
	for i, c := range []*acqclient.Client{a, a, a, b} {
		rrn := fmt.Sprintf("%012d", 700+i)
		m, err := acqclient.Request{PAN: fmt.Sprintf("41111111111111%02d", i), Amount: 100, STAN: 700 + i, RRN: rrn,
			Terminal: "TERM0001"}.Message()
		require.NoError(t, err)
		want[rrn] = sendCode(t, c, m)
		require.Equal(t, "00", want[rrn])
	}
	require.NoError(t, pa.cmd.Process.Kill())
	<-pa.done
	pa.done <- nil

	db := pgConn(t, dsn)
	require.Equal(t, int64(3), countRows(t, db, `SELECT count(*) FROM reversals WHERE node = 'sw-a' AND kind = 'stand-in'`))
	sim := startCrashSim(t, config.Simulator{Listen: issuerAddr})
	require.Eventually(t, func() bool {
		return countRows(t, db, `SELECT count(*) FROM reversals`) == 0 &&
			countRows(t, db, `SELECT count(*) FROM entries WHERE outcome = 'advised'`) == int64(len(want))
	}, crashDeadline, 20*time.Millisecond, "the dead node's advices delivered by the survivor, and journaled")
	got := map[string]int{}
	for _, r := range sim.wait(t, "", func([]issuersim.Request) bool { return true }) {
		if r.MTI == "0120" || r.MTI == "0121" {
			got[r.RRN]++
			assert.Equal(t, want[r.RRN], r.Code, "RRN %s: the decision", r.RRN)
		}
	}
	assert.Len(t, got, len(want), "an advice of every decision, the dead node's included")
	assert.Equal(t, int64(len(want)), countRows(t, db, `SELECT count(*) FROM entries WHERE outcome = 'advised'
		AND node = 'sw-b'`), "each acknowledged through the survivor, once")
}

// assertNoPANInDatabase: no text or bytea column of any table of the
// test's schema holds one of pans.
func assertNoPANInDatabase(t *testing.T, db *pgx.Conn, pans ...string) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('text', 'bytea', 'character varying')`)
	require.NoError(t, err)
	cols, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Table, Column, Type string }])
	require.NoError(t, err)
	require.NotEmpty(t, cols)
	tables := map[string]bool{}
	for _, c := range cols {
		tables[c.Table] = true
		match := fmt.Sprintf(`strpos(%q::text, $1) > 0`, c.Column)
		if c.Type == "bytea" {
			match = fmt.Sprintf(`position(convert_to($1, 'UTF8') in %q) > 0`, c.Column)
		}
		for _, pan := range pans {
			var n int64
			require.NoError(t, db.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %q WHERE %s`, c.Table, match),
				pan).Scan(&n))
			assert.Zero(t, n, "%s.%s holds a PAN in clear", c.Table, c.Column)
		}
	}
	for _, want := range []string{"entries", "reversals", "stand_in_uses", "stand_in_cards"} {
		assert.True(t, tables[want], "table %s scanned", want)
	}
}
