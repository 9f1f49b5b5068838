package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runShow runs `routes show` in-process.
func runShow(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRoutesShow()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	err := cmd.Execute()
	return out.String(), err
}

// serveJSON answers every request with code and body, as /admin/routes would.
func serveJSON(t *testing.T, code int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/routes" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// routesJSON has the rules out of BIN order and an issuer with one link
// down, as a switch answers.
const routesJSON = `{
  "hash": "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "loaded_at": "2026-03-01T10:20:30Z",
  "source": "/etc/cardswitch/cardswitch.yaml",
  "routes": [
    {"bin": "5", "issuer": "bank-b"},
    {"bin": "4", "issuer": "bank-a"},
    {"bin": "411111-411199", "issuer": "bank-b"}
  ],
  "issuers": [
    {"name": "bank-a", "timeout": "5s", "in_flight": 3, "links": [
      {"endpoint": "10.0.0.1:9101", "up": true, "in_flight": 3},
      {"endpoint": "10.0.0.2:9101", "up": false, "in_flight": 0}]},
    {"name": "bank-b", "timeout": "1.5s", "in_flight": 0, "offline": true, "links": [
      {"endpoint": "10.0.1.1:9200", "conn": 1, "up": true, "in_flight": 0},
      {"endpoint": "10.0.1.1:9200", "conn": 2, "up": false, "in_flight": 0}]}
  ]
}
`

func TestRoutesShowTable(t *testing.T) {
	addr := serveJSON(t, 200, routesJSON)
	for _, a := range []string{addr, "http://" + addr, "http://" + addr + "/"} {
		out, err := runShow(t, "--admin", a)
		require.NoError(t, err, a)
		assert.Equal(t, `hash       5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
loaded at  2026-03-01T10:20:30Z
source     /etc/cardswitch/cardswitch.yaml
default    (none: PANs no rule matches are declined with 15)

BIN            ISSUER
4              bank-a
411111-411199  bank-b
5              bank-b
(3 rules)

ISSUER            TIMEOUT  IN FLIGHT  LINK             STATE  LINK IN FLIGHT
bank-a            5s       3          10.0.0.1:9101    up     3
                                      10.0.0.2:9101    down   0
bank-b (offline)  1.5s     0          10.0.1.1:9200#1  up     0
                                      10.0.1.1:9200#2  down   0
`, out, a)
	}
}

func TestRoutesShowDefaultIssuerAndEmpty(t *testing.T) {
	addr := serveJSON(t, 200, `{"hash": "ab", "loaded_at": "2026-03-01T10:20:30+01:00", "source": "c.yaml",
		"default_issuer": "bank-a", "routes": null, "issuers": [{"name": "bank-a", "timeout": "5s", "links": null}]}`)
	out, err := runShow(t, "--admin", addr)
	require.NoError(t, err)
	assert.Equal(t, `hash       ab
loaded at  2026-03-01T10:20:30+01:00
source     c.yaml
default    bank-a

BIN  ISSUER
(0 rules)

ISSUER  TIMEOUT  IN FLIGHT  LINK  STATE  LINK IN FLIGHT
bank-a  5s       0          -     -      -
`, out)
}

func TestRoutesShowJSON(t *testing.T) {
	addr := serveJSON(t, 200, routesJSON)
	out, err := runShow(t, "--admin", addr, "--json")
	require.NoError(t, err)
	assert.Equal(t, routesJSON, out, "the answer exactly as served")
}

func TestRoutesShowErrors(t *testing.T) {
	long := strings.Repeat("x", 600)
	tests := []struct {
		name, body string
		code       int
		want       string // error text after "routes show: GET http://ADDR/admin/routes: "
	}{
		{"not found", "404 page not found\n", 404, "404 Not Found: 404 page not found"},
		{"server error", "internal error: response not marshalable", 500,
			"500 Internal Server Error: internal error: response not marshalable"},
		{"long body cut", long, 503, "503 Service Unavailable: " + long[:512] + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveJSON(t, tt.code, tt.body)
			_, err := runShow(t, "--admin", addr)
			require.EqualError(t, err, "routes show: GET http://"+addr+"/admin/routes: "+tt.want)
		})
	}

	addr := serveJSON(t, 200, "[1, 2]")
	_, err := runShow(t, "--admin", addr)
	require.EqualError(t, err, "routes show: http://"+addr+"/admin/routes: not a routes answer: "+
		"json: cannot unmarshal array into Go value of type switchd.Routes")
}

func TestRoutesShowNoListener(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := strings.TrimPrefix(srv.URL, "http://")
	srv.Close() // nothing listens there any more
	_, err := runShow(t, "--admin", addr)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "routes show: Get \"http://"+addr+"/admin/routes\": "), err.Error())
	assert.Contains(t, err.Error(), "connection refused")
}

func TestRoutesShowRejectsArgs(t *testing.T) {
	_, err := runShow(t, "extra")
	require.EqualError(t, err, `unknown command "extra" for "show"`)
}

// serveWithToken answers /admin/routes like serveJSON, but only to the
// bearer token given, as a switch with admin.token_file does.
func serveWithToken(t *testing.T, token string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cardswitch admin"`)
			http.Error(w, "admin: this endpoint needs the admin token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(routesJSON))
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestRoutesShowToken(t *testing.T) {
	const token = "0123456789abcdef-token"
	addr := serveWithToken(t, token)
	good := writeFile(t, "admin.token", token+"\n")
	wrong := writeFile(t, "wrong.token", "0123456789abcdef-wrong\n")
	short := writeFile(t, "short.token", "short\n")
	url := "http://" + addr + "/admin/routes"
	t.Setenv(adminTokenEnv, "")

	_, err := runShow(t, "--admin", addr)
	require.EqualError(t, err, "routes show: GET "+url+": 401 Unauthorized: the switch's admin API needs a token: "+
		"--token-file FILE (or $CARDSWITCH_ADMIN_TOKEN_FILE)")
	_, err = runShow(t, "--admin", addr, "--token-file", wrong)
	require.EqualError(t, err, "routes show: GET "+url+": 401 Unauthorized: the switch refused the token in \""+wrong+
		"\": is it the file of its admin.token_file?")
	_, err = runShow(t, "--admin", addr, "--token-file", short)
	require.EqualError(t, err, "routes show: --token-file \""+short+"\": the token has 5 characters: at least 16 required")
	_, err = runShow(t, "--admin", addr, "--token-file", short+".missing")
	require.EqualError(t, err, "routes show: --token-file \""+short+".missing\": cannot read: no such file or directory")

	out, err := runShow(t, "--admin", addr, "--token-file", good, "--json")
	require.NoError(t, err)
	assert.Equal(t, routesJSON, out)

	t.Setenv(adminTokenEnv, short)
	_, err = runShow(t, "--admin", addr)
	require.EqualError(t, err, "routes show: $CARDSWITCH_ADMIN_TOKEN_FILE \""+short+"\": the token has 5 characters: at least 16 required")

	t.Setenv(adminTokenEnv, good)
	out, err = runShow(t, "--admin", addr, "--json")
	require.NoError(t, err, "the token file from the environment")
	assert.Equal(t, routesJSON, out)
	_, err = runShow(t, "--admin", addr, "--token-file", wrong)
	require.ErrorContains(t, err, "the switch refused the token", "--token-file wins over the environment")
}

// End to end: a switch process whose admin listener needs a token, and
// `routes show` with and without --token-file.
func TestRoutesShowTokenAgainstSwitch(t *testing.T) {
	sim := startIssuer(t, "A")
	const token = "e2e-admin-token-0123456789"
	tokenFile := writeFile(t, "admin.token", token+"\n")
	cfg := writeFile(t, "cardswitch.yaml", `listen: {address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0", token_file: `+tokenFile+`}
journal: {path: ""}
issuers:
  - {name: bank-a, endpoints: [`+sim+`], reconnect_min: 10ms, reconnect_max: 100ms}
routes:
  - {bin: "4", issuer: bank-a}
`)
	p := startServeEnv(t, []string{adminTokenEnv + "="}, "--config", cfg, "--watch=false")
	admin := p.waitLog(t, "cardswitch listening", nil)["admin"].(string)
	p.waitLog(t, "issuer link up", map[string]string{"issuer": "bank-a"})
	t.Setenv(adminTokenEnv, "")

	_, err := runShow(t, "--admin", admin)
	require.ErrorContains(t, err, "401 Unauthorized: the switch's admin API needs a token: --token-file FILE")

	out, err := runShow(t, "--admin", admin, "--token-file", tokenFile)
	require.NoError(t, err)
	assert.Contains(t, out, "BIN  ISSUER\n4    bank-a\n(1 rules)\n")
	assert.Contains(t, out, "bank-a  5s       0          "+sim+"  up")
}
