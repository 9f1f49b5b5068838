package switchd_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminReq sends one request to the admin listener with extra headers; host
// replaces the Host header when set.
func adminReq(t *testing.T, method, url, host string, hdr map[string]string) (int, string) {
	t.Helper()
	a := adminExchange(t, method, url, host, `{"a":"b"}`, hdr)
	return a.code, a.body
}

// adminExchange sends one request with body and extra headers (host, when set,
// replaces the Host header), without following redirects and without
// keep-alive (goleak), and returns the whole answer.
func adminExchange(t *testing.T, method, url, host, body string, hdr map[string]string) statusAnswer {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return statusAnswer{resp.StatusCode, string(b), resp.Header}
}

// runFileSwitch starts a switch on the config file at path, without a file
// watch, so that only the requests under test reload it.
func runFileSwitch(t *testing.T, path string) *switchd.Switch {
	t.Helper()
	cfg, err := config.Load(path)
	require.NoError(t, err)
	sw, err := switchd.New(cfg, switchd.WithLogger(testLog(t)), switchd.WithWatch(false))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	require.NotEmpty(t, sw.AdminAddr())
	return sw
}

// A running switch with admin.token_file: the admin endpoints need the
// token, a cross-site text/plain POST and a foreign Host reload nothing
// (the hash in force stays), and a rewritten token file applies on reload
// even when the config itself is unchanged.
func TestAdminAccessOnRunningSwitch(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	const token1, token2 = "first-token-0123456789", "second-token-0123456789"
	require.NoError(t, os.WriteFile(tokenFile, []byte(token1+"\n"), 0o600))
	head := "listen: {address: \"127.0.0.1:0\"}\nadmin: {address: \"127.0.0.1:0\", token_file: " + tokenFile +
		"}\njournal: {path: \"\"}\nissuers:\n" + issuerYAML("bank", "5s", sim.Addr()) + "routes:\n"
	v1 := head + "  - {bin: \"4\", issuer: bank}\n"
	v2 := head + "  - {bin: \"4\", issuer: bank}\n  - {bin: \"5\", issuer: bank}\n"
	path := filepath.Join(dir, "cardswitch.yaml")
	require.NoError(t, os.WriteFile(path, []byte(v1), 0o600))
	sw := runFileSwitch(t, path)
	base := "http://" + sw.AdminAddr()
	auth := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

	code, _ := adminReq(t, "GET", base+"/admin/routes", "", nil)
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = adminReq(t, "GET", base+"/admin/routes", "", auth("wrong-token-0123456789"))
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = adminReq(t, "GET", base+"/healthz", "", nil)
	assert.Equal(t, http.StatusOK, code, "probes need no token")

	hashInForce := func() string {
		code, body := adminReq(t, "GET", base+"/admin/routes", "", auth(token1))
		require.Equal(t, http.StatusOK, code, body)
		return body[strings.Index(body, `"hash": "`)+9:][:64]
	}
	require.Equal(t, sha(v1), hashInForce())

	require.NoError(t, os.WriteFile(path, []byte(v2), 0o600))
	evil := map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain", "Authorization": "Bearer " + token1}
	code, body := adminReq(t, "POST", base+"/admin/reload", "", evil)
	assert.Equal(t, http.StatusForbidden, code, body)
	code, body = adminReq(t, "POST", base+"/admin/reload", "rebound.evil.example:80", auth(token1))
	assert.Equal(t, http.StatusMisdirectedRequest, code, body)
	code, body = adminReq(t, "POST", base+"/admin/reload", "", nil)
	assert.Equal(t, http.StatusUnauthorized, code, body)
	assert.Equal(t, sha(v1), hashInForce(), "no refused request reloaded the file")

	// The token is re-read on reload, even with the config unchanged.
	require.NoError(t, os.WriteFile(path, []byte(v1), 0o600))
	require.NoError(t, os.WriteFile(tokenFile, []byte(token2+"\n"), 0o600))
	code, body = adminReq(t, "POST", base+"/admin/reload", "", auth(token1))
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"changed": false`)
	code, _ = adminReq(t, "GET", base+"/admin/routes", "", auth(token1))
	assert.Equal(t, http.StatusUnauthorized, code, "the old token no longer works")
	code, _ = adminReq(t, "GET", base+"/admin/routes", "", auth(token2))
	assert.Equal(t, http.StatusOK, code)
}

// A switch whose admin listener is on every address cannot be started, or
// reloaded, into running it without a token.
func TestAdminNonLoopbackNeedsToken(t *testing.T) {
	sim := startSim(t, config.Simulator{})
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "admin.token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("a-token-0123456789abcdef\n"), 0o600))
	body := "journal: {path: \"\"}\nissuers:\n" + issuerYAML("bank", "5s", sim.Addr()) + "routes:\n  - {bin: \"4\", issuer: bank}\n"

	_, err := config.LoadBytes("t.yaml", []byte("admin: {address: \"0.0.0.0:0\"}\n"+body))
	require.ErrorContains(t, err, `t.yaml: admin.address: "0.0.0.0:0": not a loopback address and admin.token_file is not set`)

	path := filepath.Join(dir, "cardswitch.yaml")
	require.NoError(t, os.WriteFile(path, []byte("listen: {address: \"127.0.0.1:0\"}\nadmin: {address: \"0.0.0.0:0\", token_file: "+
		tokenFile+"}\n"+body), 0o600))
	sw := runFileSwitch(t, path)
	// The address moves to loopback (restart-only) and the token goes: the
	// listener, still on every address, must keep its token.
	require.NoError(t, os.WriteFile(path, []byte("listen: {address: \"127.0.0.1:0\"}\nadmin: {address: \"127.0.0.1:0\"}\n"+body), 0o600))
	_, err = sw.Reload(context.Background())
	require.ErrorContains(t, err, "admin: the listener is not on a loopback address: admin.token_file is required; "+
		"the admin listener keeps its token until a restart")
	code, _ := adminReq(t, "GET", "http://"+sw.AdminAddr()+"/admin/routes", "", nil)
	assert.Equal(t, http.StatusUnauthorized, code)
}
