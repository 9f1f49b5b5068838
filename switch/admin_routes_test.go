package switchd_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// adminDo returns the status and body of one admin request.
func adminDo(t *testing.T, method, url string) (int, []byte) {
	t.Helper()
	code, body := opsHTTP(t, method, url)
	return code, []byte(body)
}

func getRoutes(t *testing.T, admin string) switchd.Routes {
	t.Helper()
	code, body := adminDo(t, http.MethodGet, "http://"+admin+"/admin/routes")
	require.Equal(t, http.StatusOK, code, string(body))
	var r switchd.Routes
	require.NoError(t, json.Unmarshal(body, &r), string(body))
	return r
}

func sha(b string) string {
	sum := sha256.Sum256([]byte(b))
	return hex.EncodeToString(sum[:])
}

// The admin listener shows the table in force and reloads the file on
// POST: a change is applied and described, the same content is a no-op,
// and an invalid file is refused with its problems while the old table
// keeps routing.
func TestAdminRoutesAndReload(t *testing.T) {
	a := startSim(t, config.Simulator{Name: "a", ApprovalCodePrefix: "A"})
	b := startSim(t, config.Simulator{Name: "b", ApprovalCodePrefix: "B"})
	head := "listen: {address: \"127.0.0.1:0\"}\nadmin: {address: \"127.0.0.1:0\"}\njournal: {path: \"\"}\nissuers:\n" +
		issuerYAML("bank-a", "5s", a.Addr()) + issuerYAML("bank-b", "3s", b.Addr()) + "routes:\n"
	v1 := head + "  - {bin: \"5\", issuer: bank-b}\n  - {bin: \"4\", issuer: bank-a}\n"
	v2 := head + "  - {bin: \"5\", issuer: bank-b}\n  - {bin: \"4\", issuer: bank-a}\n  - {bin: \"411111-411199\", issuer: bank-b}\n"
	bad := head + "  - {bin: \"4x\", issuer: bank-a}\n  - {bin: \"5\", issuer: bank-z}\n"

	path := filepath.Join(t.TempDir(), "cardswitch.yaml")
	write := func(content string) { require.NoError(t, os.WriteFile(path, []byte(content), 0o600)) }
	write(v1)
	cfg, err := config.Load(path)
	require.NoError(t, err)
	// No file watch: each reload here must come from the POST under test.
	sw, err := switchd.New(cfg, switchd.WithLogger(testLog(t)), switchd.WithWatch(false))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	require.NoError(t, sw.WaitIssuer(wctx, "bank-a", atLeast(1)))
	require.NoError(t, sw.WaitIssuer(wctx, "bank-b", atLeast(1)))
	admin := sw.AdminAddr()
	require.NotEmpty(t, admin)
	probe := dial(t, sw.Addr().String())
	answeredBy := func(pan string) string {
		resp := send(t, probe, auth(pan, 100, 1))
		require.Equal(t, "00", str(t, resp, 39), pan)
		return str(t, resp, 38)[:1]
	}

	// GET: the file's hash, its rules in file order, the links up.
	r := getRoutes(t, admin)
	assert.Equal(t, sha(v1), r.Hash)
	assert.Equal(t, path, r.Source)
	assert.Equal(t, cfg.LoadedAt.UnixNano(), r.LoadedAt.UnixNano())
	assert.Equal(t, []switchd.RouteRule{{BIN: "5", Issuer: "bank-b"}, {BIN: "4", Issuer: "bank-a"}}, r.Rules)
	assert.Equal(t, []switchd.IssuerState{
		{Name: "bank-a", Timeout: "5s", Links: []switchd.LinkState{{Endpoint: a.Addr(), Conn: 1, Up: true}}},
		{Name: "bank-b", Timeout: "3s", Links: []switchd.LinkState{{Endpoint: b.Addr(), Conn: 1, Up: true}}},
	}, r.Issuers)
	assert.Equal(t, "A", answeredBy("4111111111111111"))

	// POST after a change: applied, described, and in force.
	write(v2)
	code, body := adminDo(t, http.MethodPost, "http://"+admin+"/admin/reload")
	require.Equal(t, http.StatusOK, code, string(body))
	var res switchd.ReloadResult
	require.NoError(t, json.Unmarshal(body, &res))
	assert.True(t, res.Changed)
	assert.Equal(t, sha(v2), res.Hash)
	assert.Equal(t, "+ routes[2] bin \"411111-411199\" -> bank-b\nmoves: 411111-411199: bank-a -> bank-b\n", res.Diff)
	assert.Empty(t, res.Restart)
	r = getRoutes(t, admin)
	assert.Equal(t, sha(v2), r.Hash)
	assert.Equal(t, res.Loaded.UnixNano(), r.LoadedAt.UnixNano())
	assert.Equal(t, switchd.RouteRule{BIN: "411111-411199", Issuer: "bank-b"}, r.Rules[2])
	assert.Equal(t, "B", answeredBy("4111111111111111"))
	assert.Equal(t, "A", answeredBy("4000000000000002"))

	// POST without a change: nothing done, the same hash and load time.
	code, body = adminDo(t, http.MethodPost, "http://"+admin+"/admin/reload")
	require.Equal(t, http.StatusOK, code, string(body))
	var same switchd.ReloadResult
	require.NoError(t, json.Unmarshal(body, &same))
	assert.Equal(t, switchd.ReloadResult{Hash: sha(v2), Loaded: res.Loaded}, same)

	// POST after an invalid change: 422 with every problem, the old table kept.
	write(bad)
	code, body = adminDo(t, http.MethodPost, "http://"+admin+"/admin/reload")
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	var failure struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
	}
	require.NoError(t, json.Unmarshal(body, &failure))
	assert.Equal(t, []string{
		path + `: routes[0] (bin "4x"): not all digits`,
		path + `: routes[1] (bin "5"): unknown issuer "bank-z"`,
	}, failure.Problems)
	assert.NotEmpty(t, failure.Error)
	r = getRoutes(t, admin)
	assert.Equal(t, sha(v2), r.Hash, "the old table is still served")
	assert.Len(t, r.Rules, 3)
	assert.Equal(t, "B", answeredBy("4111111111111111"), "still routed by the old table")

	st := sw.Stats()
	assert.Equal(t, int64(1), st.Reloads)
	assert.Equal(t, int64(1), st.ReloadErrors)
}
