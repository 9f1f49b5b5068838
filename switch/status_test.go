package switchd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/pgtest"
	switchd "github.com/cardswitch/cardswitch/switch"
)

// statusAnswer is one admin answer: code, body and headers.
type statusAnswer struct {
	code int
	body string
	hdr  http.Header
}

// statusDo sends one request without following redirects (the sign-in
// flow is in the 303s) and without keep-alive (goleak).
func statusDo(t *testing.T, method, url, body string, hdr map[string]string) statusAnswer {
	t.Helper()
	return adminExchange(t, method, url, "", body, hdr)
}

// statusDoc fetches and decodes /status.json.
func statusDoc(t *testing.T, base string, hdr map[string]string) (switchd.StatusDoc, string) {
	t.Helper()
	a := statusDo(t, "GET", base+"/status.json", "", hdr)
	require.Equal(t, http.StatusOK, a.code, a.body)
	var doc switchd.StatusDoc
	require.NoError(t, json.Unmarshal([]byte(a.body), &doc), a.body)
	return doc, a.body
}

func statusIssuer(t *testing.T, doc switchd.StatusDoc, name string) switchd.StatusIssuer {
	t.Helper()
	for _, is := range doc.Issuers {
		if is.Name == name {
			return is
		}
	}
	require.Failf(t, "issuer missing", "no issuer %q in status.json", name)
	return switchd.StatusIssuer{}
}

// statusYAML: bank on the simulator, bank2 on an address where nothing
// answers; 4 routes to bank, 41 to bank2 except 411111 (bank). Links
// reconnect after 30 s, so that a link that went down stays down for the
// test.
func statusYAML(sim, dead, admin string) string {
	if admin == "" {
		admin = "admin: {address: \"127.0.0.1:0\"}\n"
	}
	issuer := func(name, addr string) string {
		return "  - {name: " + name + ", endpoints: [" + addr + "], timeout: 5s, connect_timeout: 2s, " +
			"reconnect_min: 30s, reconnect_max: 30s}\n"
	}
	return admin + "journal: {path: \"\"}\nissuers:\n" + issuer("bank", sim) +
		issuer("bank2", dead) + "routes:\n  - {bin: \"4\", issuer: bank}\n  - {bin: \"41\", issuer: bank2}\n" +
		"  - {bin: \"411111\", issuer: bank}\n"
}

// statusSwitch runs a switch on statusYAML from a file, with the
// simulator declining amounts above 1000.
func statusSwitch(t *testing.T, admin string) (*running, string, string) {
	t.Helper()
	sim := startSim(t, config.Simulator{DeclineAbove: 1000})
	dead := deadAddr(t)
	path := filepath.Join(t.TempDir(), "switch.yaml")
	require.NoError(t, os.WriteFile(path, []byte(statusYAML(sim.Addr(), dead, admin)), 0o600))
	cfg, err := config.Load(path)
	require.NoError(t, err)
	sw := opsRun(t, cfg)
	opsWaitUp(t, sw, "bank")
	return sw, path, sim.Addr()
}

const statusPAN = "4111111111111111"

// statusTraffic sends an approval, a decline (bank) and a request with no
// route (the switch answers 15), on one acquirer connection.
func statusTraffic(t *testing.T, sw *running) {
	t.Helper()
	c := dial(t, sw.addr)
	assert.Equal(t, "00", str(t, send(t, c, auth(statusPAN, 100, 1)), 39))
	assert.Equal(t, "51", str(t, send(t, c, auth(statusPAN, 5000, 2)), 39))
	assert.Equal(t, "15", str(t, send(t, c, auth("6011000000000004", 100, 3)), 39))
}

// After traffic, /status.json shows the issuers, their links and codes,
// the series, the acquirer connected and a reload with its diff; no full
// PAN anywhere in it.
func TestStatusJSONAfterTraffic(t *testing.T) {
	sw, path, simAddr := statusSwitch(t, "")
	base := "http://" + sw.AdminAddr()
	statusTraffic(t, sw)

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(raw, "  - {bin: \"5\", issuer: bank}\n"...), 0o600))
	a := statusDo(t, "POST", base+"/admin/reload", "", nil)
	require.Equal(t, http.StatusOK, a.code, a.body)

	doc, body := statusDoc(t, base, nil)
	assert.NotContains(t, body, statusPAN)
	assert.Equal(t, 1, doc.Version)
	assert.NotEmpty(t, doc.Config.Hash)
	assert.Equal(t, path, doc.Config.Source)
	assert.False(t, doc.StartedAt.IsZero())
	assert.Nil(t, doc.Cluster, "no cluster without journal.postgres")
	assert.Contains(t, body, `"cluster": null`)

	bank := statusIssuer(t, doc, "bank")
	assert.Equal(t, "up", bank.State)
	assert.Equal(t, "iso87ascii", bank.Dialect)
	assert.Equal(t, int64(5000), bank.TimeoutMs)
	require.Len(t, bank.Links, 1)
	assert.Equal(t, simAddr, bank.Links[0].Endpoint)
	assert.Equal(t, "up", bank.Links[0].State)
	assert.NotNil(t, bank.Links[0].LastAnswer)
	assert.Equal(t, map[string]uint64{"00": 1, "51": 1}, bank.Codes)
	require.NotEmpty(t, bank.Series.Points)
	assert.Equal(t, 10, bank.Series.BucketSeconds)
	// The traffic may straddle a bucket boundary: the points together
	// hold it.
	answered := false
	for _, p := range bank.Series.Points {
		if p.RequestsPerS > 0 {
			answered = true
			require.NotNil(t, p.ApprovalRate)
			assert.True(t, *p.ApprovalRate >= 0 && *p.ApprovalRate <= 1, "%v", *p.ApprovalRate)
			require.NotNil(t, p.P50ms)
			require.NotNil(t, p.P99ms)
			assert.LessOrEqual(t, *p.P50ms, *p.P99ms)
		}
	}
	assert.True(t, answered, "a point holds the answers: %+v", bank.Series.Points)
	assert.Equal(t, "down", statusIssuer(t, doc, "bank2").State)

	assert.Equal(t, map[string]uint64{"00": 1, "51": 1, "15": 1}, doc.Switch.Codes)
	assert.Equal(t, 300, doc.Switch.WindowSeconds)
	require.NotEmpty(t, doc.Switch.Series.Points)
	require.Len(t, doc.Acquirers, 1)
	assert.Equal(t, int64(0), doc.Acquirers[0].InFlight)
	assert.Equal(t, config.MainListener, doc.Acquirers[0].Listener)
	require.Len(t, doc.Reloads, 1)
	assert.True(t, doc.Reloads[0].OK)
	assert.Equal(t, doc.Config.Hash, doc.Reloads[0].Hash)
	assert.NotEmpty(t, doc.Reloads[0].Diff)
}

// An issuer whose host goes away shows down in /status.json, its link
// down since about then.
func TestStatusIssuerDown(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	path := filepath.Join(t.TempDir(), "switch.yaml")
	require.NoError(t, os.WriteFile(path, []byte(statusYAML(sim.Addr(), deadAddr(t), "")), 0o600))
	cfg, err := config.Load(path)
	require.NoError(t, err)
	sw := opsRun(t, cfg)
	opsWaitUp(t, sw, "bank")
	base := "http://" + sw.AdminAddr()
	doc, _ := statusDoc(t, base, nil)
	require.Equal(t, "up", statusIssuer(t, doc, "bank").State)

	before := time.Now()
	sim.SetDown(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, sw.WaitIssuer(ctx, "bank", none))
	doc, _ = statusDoc(t, base, nil)
	bank := statusIssuer(t, doc, "bank")
	assert.Equal(t, "down", bank.State)
	require.Len(t, bank.Links, 1)
	assert.Equal(t, "down", bank.Links[0].State)
	assert.False(t, bank.Links[0].Since.Before(before.Truncate(time.Second)), "since %v, down at %v", bank.Links[0].Since, before)
}

// /status/transactions lists the last transactions newest first with the
// PAN masked, filters exactly, and refuses a malformed filter naming it.
func TestStatusTransactions(t *testing.T) {
	sw, _, _ := statusSwitch(t, "")
	base := "http://" + sw.AdminAddr()
	statusTraffic(t, sw)

	list := func(query string) []switchd.StatusTxn {
		t.Helper()
		a := statusDo(t, "GET", base+"/status/transactions"+query, "", nil)
		require.Equal(t, http.StatusOK, a.code, a.body)
		assert.NotContains(t, a.body, statusPAN)
		assert.NotContains(t, a.body, "6011000000000004")
		var got switchd.StatusTxns
		require.NoError(t, json.Unmarshal([]byte(a.body), &got))
		return got.Transactions
	}
	all := list("")
	require.Len(t, all, 3)
	assert.Equal(t, []string{"000003", "000002", "000001"}, []string{all[0].STAN, all[1].STAN, all[2].STAN})
	first := all[2]
	assert.Equal(t, "411111******1111", first.PAN)
	assert.Equal(t, "bank", first.Issuer)
	assert.Equal(t, "0100", first.MTI)
	assert.Equal(t, "00", first.Code)
	assert.Equal(t, "approved", first.Outcome)
	assert.Equal(t, "000000000100", first.Amount)
	assert.Equal(t, "000000000001", first.RRN)
	assert.Equal(t, "601100******0004", all[0].PAN)
	assert.Equal(t, "switch-declined", all[0].Outcome)

	assert.Len(t, list("?issuer=bank"), 2)
	assert.Len(t, list("?code=51"), 1)
	assert.Len(t, list("?outcome=declined&issuer=bank"), 1)
	assert.Empty(t, list("?issuer=nobody"))
	assert.Len(t, list("?limit=1"), 1)

	for query, param := range map[string]string{"?code=5": "code", "?code=0%3B": "code", "?outcome=nope": "outcome",
		"?limit=0": "limit", "?limit=51": "limit", "?limit=x": "limit"} {
		a := statusDo(t, "GET", base+"/status/transactions"+query, "", nil)
		assert.Equal(t, http.StatusBadRequest, a.code, query)
		var e struct{ Error string }
		require.NoError(t, json.Unmarshal([]byte(a.body), &e), a.body)
		assert.True(t, strings.HasPrefix(e.Error, param+": "), "%s: %s", query, e.Error)
	}
}

// /status/lookup answers as `cardswitch routes lookup`: the winning rule,
// why the others lost, the issuer's state; a bad PAN is a 400 naming it.
func TestStatusLookup(t *testing.T) {
	sw, _, _ := statusSwitch(t, "")
	base := "http://" + sw.AdminAddr()
	lookup := func(body string) (int, switchd.StatusLookup, string) {
		a := statusDo(t, "POST", base+"/status/lookup", body, map[string]string{"Content-Type": "application/json"})
		var got switchd.StatusLookup
		if a.code == http.StatusOK {
			require.NoError(t, json.Unmarshal([]byte(a.body), &got), a.body)
		}
		return a.code, got, a.body
	}
	code, got, body := lookup(`{"pan": "4111111111111111"}`)
	require.Equal(t, http.StatusOK, code, body)
	assert.NotContains(t, body, statusPAN)
	assert.Equal(t, "411111******1111", got.Input)
	assert.Equal(t, "411111", got.BIN)
	assert.Equal(t, "bank", got.Issuer)
	assert.Equal(t, "up", got.IssuerState)
	assert.Equal(t, &switchd.LookupRule{Index: 2, BIN: "411111", Issuer: "bank"}, got.Rule)
	assert.Equal(t, []switchd.LookupRule{{Index: 1, BIN: "41", Issuer: "bank2", Why: "shorter prefix"},
		{Index: 0, BIN: "4", Issuer: "bank", Why: "shorter prefix"}}, got.Others)

	code, got, body = lookup(`{"pan": "4122"}`)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "bank2", got.Issuer)
	assert.Equal(t, "down", got.IssuerState)

	code, got, body = lookup(`{"pan": "6011000000000004"}`)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "", got.Issuer)
	assert.Equal(t, "no rule matched and no default_issuer", got.Why)
	assert.Nil(t, got.Rule)

	for _, bad := range []string{`{"pan": "4111-1111"}`, `{"pan": ""}`, `{"pan": "41111111111111111111"}`, `{}`} {
		code, _, body = lookup(bad)
		assert.Equal(t, http.StatusBadRequest, code, bad)
		assert.JSONEq(t, `{"error": "pan: digits only, 1 to 19"}`, body, bad)
	}
	code, _, body = lookup(`not json 4111111111111111`)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.NotContains(t, body, statusPAN, "the body is not echoed")
	a := statusDo(t, "GET", base+"/status/lookup?pan=4111111111111111", "", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, a.code, "no PAN in a URL")
}

// With admin.token_file, the status page needs the token: its JSON
// answers 401 JSON and the page 303 to the sign-in form without it; the
// form's right token sets an HttpOnly SameSite=Strict session cookie
// (not the token) that then works; a wrong token is 401, a cross-site
// sign-in 403; sign-out ends the session.
func TestStatusSignIn(t *testing.T) {
	const token = "status-token-0123456789abcdef"
	tokenFile := filepath.Join(t.TempDir(), "admin.token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	sw, _, _ := statusSwitch(t, "admin: {address: \"127.0.0.1:0\", token_file: "+tokenFile+"}\n")
	base := "http://" + sw.AdminAddr()
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	for _, p := range []string{"/status.json", "/status/transactions"} {
		a := statusDo(t, "GET", base+p, "", nil)
		assert.Equal(t, http.StatusUnauthorized, a.code, p)
		assert.Equal(t, "application/json", a.hdr.Get("Content-Type"), p)
		assert.Contains(t, a.body, `"error": "this endpoint needs the admin token`, p)
	}
	a := statusDo(t, "POST", base+"/status/lookup", `{"pan": "4"}`, nil)
	assert.Equal(t, http.StatusUnauthorized, a.code)
	a = statusDo(t, "GET", base+"/status", "", nil)
	assert.Equal(t, http.StatusSeeOther, a.code)
	assert.Equal(t, "/status/login", a.hdr.Get("Location"))
	a = statusDo(t, "GET", base+"/status/login", "", nil)
	assert.Equal(t, http.StatusOK, a.code)
	assert.Contains(t, a.body, `name="token"`)
	assert.Equal(t, http.StatusOK, statusDo(t, "GET", base+"/status.json", "", bearerOf(token)).code, "the bearer token still works")

	a = statusDo(t, "POST", base+"/status/login", "token=wrong-token", form)
	assert.Equal(t, http.StatusUnauthorized, a.code)
	assert.Contains(t, a.body, "wrong token")
	assert.Empty(t, a.hdr.Values("Set-Cookie"))
	for _, h := range []map[string]string{{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}} {
		h["Content-Type"] = form["Content-Type"]
		a = statusDo(t, "POST", base+"/status/login", "token="+token, h)
		assert.Equal(t, http.StatusForbidden, a.code, "%v", h)
		assert.Empty(t, a.hdr.Values("Set-Cookie"), "%v", h)
	}

	a = statusDo(t, "POST", base+"/status/login", "token="+token, form)
	require.Equal(t, http.StatusSeeOther, a.code, a.body)
	assert.Equal(t, "/status", a.hdr.Get("Location"))
	resp := http.Response{Header: a.hdr}
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	ck := cookies[0]
	assert.Equal(t, "cardswitch_admin", ck.Name)
	assert.True(t, ck.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, ck.SameSite)
	assert.Equal(t, "/", ck.Path)
	assert.NotContains(t, ck.Value, token)
	session := map[string]string{"Cookie": ck.Name + "=" + ck.Value}
	assert.Equal(t, http.StatusOK, statusDo(t, "GET", base+"/status.json", "", session).code)
	assert.Equal(t, http.StatusOK, statusDo(t, "GET", base+"/status/transactions", "", session).code)
	assert.Equal(t, http.StatusUnauthorized, statusDo(t, "GET", base+"/status.json", "",
		map[string]string{"Cookie": ck.Name + "=" + ck.Value + "x"}).code, "a forged cookie")
	assert.Equal(t, http.StatusUnauthorized, statusDo(t, "GET", base+"/status.json", "",
		map[string]string{"Cookie": ck.Name + "=" + token}).code, "the token is not a cookie")

	a = statusDo(t, "POST", base+"/status/logout", "", session)
	assert.Equal(t, http.StatusSeeOther, a.code)
	assert.Equal(t, "/status/login", a.hdr.Get("Location"))
	assert.Contains(t, a.hdr.Get("Set-Cookie"), "Max-Age=0")
	assert.Equal(t, http.StatusUnauthorized, statusDo(t, "GET", base+"/status.json", "", session).code,
		"the session ended with the sign-out")
}

func bearerOf(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// With journal.postgres, /status.json lists the cluster's nodes from the
// heartbeat table, this one marked self; a node's config hash shows when
// the table records it, and differs from ours.
func TestStatusCluster(t *testing.T) {
	dsn := pgtest.DSN(t)
	sim := startSim(t, config.Simulator{})
	dir := t.TempDir()
	key := filepath.Join(dir, "journal.key")
	require.NoError(t, os.WriteFile(key, []byte(strings.Repeat("5a", 32)+"\n"), 0o600))
	cfg := opsLoad(t, "admin: {address: \"127.0.0.1:0\"}\njournal: {path: \"\", postgres: '"+dsn+"', key_file: "+key+
		"}\ncluster: {node: sw-1}\nissuers:\n"+issuerYAML("bank", "5s", sim.Addr())+"routes:\n  - {bin: \"4\", issuer: bank}\n")
	sw := opsRun(t, cfg)
	opsWaitUp(t, sw, "bank")
	base := "http://" + sw.AdminAddr()

	doc, body := statusDoc(t, base, nil)
	assert.Equal(t, "sw-1", doc.Node)
	require.NotNil(t, doc.Cluster, body)
	require.Len(t, doc.Cluster.Nodes, 1)
	self := doc.Cluster.Nodes[0]
	assert.Equal(t, "sw-1", self.Node)
	assert.True(t, self.Self)
	assert.False(t, self.Heartbeat.IsZero())
	assert.Nil(t, self.ConfigHash, "the nodes table has no config hash")

	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(context.Background(), `ALTER TABLE nodes ADD COLUMN IF NOT EXISTS config_hash TEXT;
		INSERT INTO nodes (node, heartbeat_ns, started_ns, config_hash) VALUES ('sw-2', 1, 1, 'other-hash')`)
	require.NoError(t, err)
	doc, _ = statusDoc(t, base, nil)
	require.Len(t, doc.Cluster.Nodes, 2)
	other := doc.Cluster.Nodes[1]
	assert.Equal(t, "sw-2", other.Node)
	assert.False(t, other.Self)
	require.NotNil(t, other.ConfigHash)
	assert.Equal(t, "other-hash", *other.ConfigHash)
	assert.True(t, other.Differs)
}

// An issuer without a live link and with stand-in on: /status.json shows
// it down, its stand-in decisions, and the advices owed with the age of
// the oldest.
func TestStatusStandInQueues(t *testing.T) {
	yaml := standInYAML(journalPath(t), deadAddr(t), "200ms", 0, standInLimits) + "admin: {address: \"127.0.0.1:0\"}\n"
	sw := opsRun(t, opsLoad(t, yaml))
	c := dial(t, sw.addr)
	require.Equal(t, "00", str(t, send(t, c, siAuth("4111111111111111", 5000, 1, nil)), 39))
	require.Equal(t, "00", str(t, send(t, c, siAuth("4000001234567899", 100, 2, nil)), 39))

	doc, body := statusDoc(t, "http://"+sw.AdminAddr(), nil)
	assert.NotContains(t, body, "4000001234567899")
	bank := statusIssuer(t, doc, "bank")
	assert.Equal(t, "down", bank.State)
	assert.Equal(t, switchd.StatusStandIn{Enabled: true, Decisions: 2}, bank.StandIn)
	assert.Equal(t, 2, bank.Queues.Advices)
	assert.Equal(t, 0, bank.Queues.Reversals)
	require.NotNil(t, bank.Queues.OldestAgeSeconds)
	assert.GreaterOrEqual(t, *bank.Queues.OldestAgeSeconds, 0.0)
	assert.Equal(t, map[string]uint64{"00": 2}, bank.Codes, "%v %+v", doc.Switch.Codes, doc.Switch.Series)
}
