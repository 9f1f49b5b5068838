package switchd_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startSimGroup runs the simulators of sims (loopback, free ports) as
// `serve` does, until the test ends; every request each receives is
// passed on reqs.
func startSimGroup(t *testing.T, reqs chan<- issuersim.Request, sims ...config.Simulator) *issuersim.Group {
	t.Helper()
	for i := range sims {
		sims[i].Listen = "127.0.0.1:0"
	}
	g, err := issuersim.StartGroup(sims, testLog(t))
	require.NoError(t, err)
	t.Cleanup(g.Close)
	for _, s := range g.Sims() {
		s.OnRequest(func(r issuersim.Request) {
			if r.MTI != "0800" {
				reqs <- r
			}
		})
	}
	return g
}

// simSwitch runs a switch whose issuer "bank" is the group's first
// simulator, with stand_in (standIn, "" for none), the journal, and the
// admin listener with token, the group given to it as `serve` does.
func simSwitch(t *testing.T, g *issuersim.Group, token, standIn string) (*running, func(method, path, token string) (int, string)) {
	t.Helper()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	yaml := standInYAML(filepath.Join(dir, "journal.db"), g.Sims()[0].Addr(), "5s", 0, standIn) +
		"admin: {address: \"127.0.0.1:0\", token_file: " + tokenFile + "}\n"
	cfg, err := config.LoadBytes(t.Name()+".yaml", []byte(yaml))
	require.NoError(t, err)
	cfg.Listen.Address = "127.0.0.1:0"
	sw := runSwitch(t, cfg, []string{"bank"}, switchd.WithLogger(testLog(t)), switchd.WithSimulators(g))
	base := "http://" + sw.AdminAddr()
	return sw, func(method, path, tok string) (int, string) {
		hdr := map[string]string{}
		if tok != "" {
			hdr["Authorization"] = "Bearer " + tok
		}
		return adminReq(t, method, base+path, "", hdr)
	}
}

// waitLinks waits until issuer "bank" of sw has links as ok says.
func waitLinks(t *testing.T, sw *running, ok func(int) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), lostDeadline)
	defer cancel()
	require.NoError(t, sw.WaitIssuer(ctx, "bank", ok))
}

// An in-process simulator taken down over the admin listener (with its
// token; without it nothing happens): the switch loses its link and
// stands in for the issuer; brought up, the link comes back and the
// simulator receives the advice of the stand-in decision.
func TestAdminSimulatorDownStandInUpAdvice(t *testing.T) {
	const token = "sim-token-0123456789abcdef"
	reqs := make(chan issuersim.Request, 16)
	g := startSimGroup(t, reqs, config.Simulator{Name: "bank-a"})
	sw, admin := simSwitch(t, g, token, standInLimits)
	c := dial(t, sw.addr)
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 1)), 39))
	assert.Equal(t, "0100", (<-reqs).MTI, "answered by the simulator")

	code, _ := admin("POST", "/admin/simulators/bank-a/down", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = admin("GET", "/admin/simulators", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.False(t, g.Sims()[0].Down(), "nothing taken down without the token")

	code, body := admin("POST", "/admin/simulators/bank-a/down", token)
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"name":"bank-a","listen":"`+g.Sims()[0].Addr()+`","state":"down"}`, body)
	waitLinks(t, sw, none)
	code, body = admin("GET", "/admin/simulators", token)
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `[{"name":"bank-a","listen":"`+g.Sims()[0].Addr()+`","state":"down"}]`, body)

	resp := send(t, c, auth("4111111111111111", 2500, 2))
	require.Equal(t, "00", str(t, resp, 39), "stood in for")
	assert.Regexp(t, `^S[0-9A-Z]{5}$`, str(t, resp, 38), "the switch's approval code")

	code, body = admin("POST", "/admin/simulators/bank-a/up", token)
	require.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"name":"bank-a","listen":"`+g.Sims()[0].Addr()+`","state":"up"}`, body)
	waitLinks(t, sw, atLeast(1))
	adv := <-reqs
	assert.Equal(t, "0120", adv.MTI, "the advice of the stand-in decision")
	assert.Equal(t, "000000000002", adv.RRN, "the decision's RRN")
	assert.Equal(t, "000000002500", adv.Amount)
	assert.Equal(t, "00", adv.Code)
	assert.Equal(t, "411111******1111", adv.MaskedPAN)

	code, body = admin("POST", "/admin/simulators/bank-z/down", token)
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, body, `no simulator named \"bank-z\"`)
	code, _ = admin("GET", "/admin/simulators/bank-a/down", token)
	assert.Equal(t, http.StatusMethodNotAllowed, code)
}

// simulators[].down_after: the simulator answers N authorizations, then
// goes down by itself; without stand-in the switch answers 91 while it is
// down, and the admin up brings the link and the approvals back.
func TestSimulatorDownAfterThen91(t *testing.T) {
	const token = "sim-token-0123456789abcdef"
	reqs := make(chan issuersim.Request, 16)
	g := startSimGroup(t, reqs, config.Simulator{Name: "bank-a", DownAfter: 2})
	sw, admin := simSwitch(t, g, token, "")
	c := dial(t, sw.addr)
	for stan := 1; stan <= 2; stan++ {
		assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, stan)), 39), "STAN %d", stan)
	}
	assert.Equal(t, "91", str(t, send(t, c, auth("4111111111111111", 100, 3)), 39), "the third takes it down")
	assert.True(t, g.Sims()[0].Down())
	waitLinks(t, sw, none)
	assert.Equal(t, "91", str(t, send(t, c, auth("4111111111111111", 100, 4)), 39), "no link: 91")

	code, body := admin("POST", "/admin/simulators/bank-a/up", token)
	require.Equal(t, http.StatusOK, code, body)
	waitLinks(t, sw, atLeast(1))
	assert.Equal(t, "00", str(t, send(t, c, auth("4111111111111111", 100, 5)), 39), "up again, and down_after fired once")
}
