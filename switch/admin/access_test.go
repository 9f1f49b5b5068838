package admin

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/switch/metrics"
)

const testToken = "s3cret-token-0123456789abcdef"

type answer struct {
	status int
	auth   string // WWW-Authenticate
	body   string
}

// request sends one request; host, when set, replaces the Host header,
// and hdr adds headers.
func request(t *testing.T, s *Server, method, path, host string, hdr map[string]string) answer {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, strings.NewReader("hello"))
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)}
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func (f *fakeBackend) reloadCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloads
}

// With a token, every path but /metrics, /healthz and /readyz needs it:
// 401 with a challenge without it or with a wrong one, and the handler
// never runs.
func TestTokenRequired(t *testing.T) {
	m := metrics.New()
	b := &fakeBackend{ready: true, routes: []string{"4"}, result: "ok"}
	s := startOn(t, "127.0.0.1:0", Access{Token: testToken}, b, m.Handler(), defaultLimits)

	need := "admin: this endpoint needs the admin token (admin.token_file): Authorization: Bearer <token>"
	for _, ep := range []struct{ method, path string }{
		{"GET", "/admin/routes"}, {"POST", "/admin/reload"}, {"GET", "/admin/reload"},
		{"GET", "/admin/nothing"}, {"GET", "/admin"}, {"GET", "/"},
	} {
		name := ep.method + " " + ep.path
		assert.Equal(t, answer{401, `Bearer realm="cardswitch admin"`, need}, request(t, s, ep.method, ep.path, "", nil), name)
		assert.Equal(t, answer{401, `Bearer realm="cardswitch admin", error="invalid_token"`, need},
			request(t, s, ep.method, ep.path, "", bearer(testToken+"x")), name)
		for _, bad := range []map[string]string{
			bearer(testToken[:len(testToken)-1]), bearer(""), {"Authorization": "Basic " + testToken},
			{"Authorization": testToken},
		} {
			assert.Equal(t, 401, request(t, s, ep.method, ep.path, "", bad).status, "%s %v", name, bad)
		}
	}
	assert.Zero(t, b.reloadCount(), "no reload without the token")

	assert.Equal(t, answer{200, "", "[\n  \"4\"\n]\n"}, request(t, s, "GET", "/admin/routes", "", bearer(testToken)))
	assert.Equal(t, 200, request(t, s, "POST", "/admin/reload", "", map[string]string{"Authorization": "bearer " + testToken}).status)
	assert.Equal(t, 1, b.reloadCount())
	assert.Equal(t, 405, request(t, s, "GET", "/admin/reload", "", bearer(testToken)).status, "reload is POST only")

	for _, open := range []string{"/metrics", "/healthz", "/readyz"} {
		assert.Equal(t, 200, request(t, s, "GET", open, "", nil).status, open)
	}
}

// Without a token (loopback only) the admin endpoints answer as before.
func TestNoTokenOnLoopback(t *testing.T) {
	b := &fakeBackend{routes: []string{"4"}, result: "ok"}
	s := startOn(t, "127.0.0.1:0", Access{}, b, nil, defaultLimits)
	assert.Equal(t, 200, request(t, s, "GET", "/admin/routes", "", nil).status)
	assert.Equal(t, 200, request(t, s, "POST", "/admin/reload", "", nil).status)
}

// A Host header that is not the listener's own address is refused (DNS
// rebinding); the loopback names with its port and configured names pass.
func TestForeignHostRefused(t *testing.T) {
	b := &fakeBackend{routes: []string{"4"}, result: "ok"}
	s := startOn(t, "127.0.0.1:0", Access{Hosts: []string{"admin.example", "ops.example:9999"}}, b, nil, defaultLimits)
	_, port, err := net.SplitHostPort(s.Addr())
	require.NoError(t, err)

	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1:1", "localhost", "localhost.:" + port,
		"10.0.0.1:" + port, "ops.example:" + port, "admin.example.evil:" + port, "[::2]:" + port} {
		got := request(t, s, "GET", "/admin/routes", host, nil)
		assert.Equal(t, 421, got.status, host)
		assert.Equal(t, "admin: Host \""+host+"\" is not this listener's address; use its address, or add the name to admin.hosts",
			got.body, host)
		assert.Equal(t, 421, request(t, s, "POST", "/admin/reload", host, nil).status, host)
		assert.Equal(t, 421, request(t, s, "GET", "/healthz", host, nil).status, host)
	}
	assert.Zero(t, b.reloadCount())

	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LocalHost:" + port, "[::1]:" + port,
		"admin.example", "admin.example:" + port, "Admin.Example:443", "ops.example:9999"} {
		assert.Equal(t, 200, request(t, s, "GET", "/admin/routes", host, nil).status, host)
	}
	// Origin is compared with the Host as sent, a scheme's default port aside.
	for origin, want := range map[string]int{"http://admin.example": 200, "http://admin.example:80": 200,
		"https://admin.example": 200, "http://admin.example:8080": 403, "https://admin.example:80": 403} {
		assert.Equal(t, want, request(t, s, "POST", "/admin/reload", "admin.example", map[string]string{"Origin": origin}).status, origin)
	}
}

// A listener on every address accepts IP literals with its port (a
// rebinding page always has a name) and only the names configured.
func TestAllInterfacesHosts(t *testing.T) {
	s := startOn(t, "0.0.0.0:0", Access{Token: testToken, Hosts: []string{"admin.example"}}, &fakeBackend{}, nil, defaultLimits)
	_, port, err := net.SplitHostPort(s.Addr())
	require.NoError(t, err)
	for _, host := range []string{"10.1.2.3:" + port, "127.0.0.1:" + port, "localhost:" + port, "admin.example:" + port} {
		assert.Equal(t, 200, request(t, s, "GET", "/healthz", host, nil).status, host)
	}
	for _, host := range []string{"switch.example:" + port, "10.1.2.3:1"} {
		assert.Equal(t, 421, request(t, s, "GET", "/healthz", host, nil).status, host)
	}
}

// A browser page from another origin cannot drive the listener: the
// text/plain POST a form or fetch sends without a CORS preflight is
// refused, and Reload never runs.
func TestCrossOriginRefused(t *testing.T) {
	b := &fakeBackend{routes: []string{"4"}, result: "ok"}
	s := startOn(t, "127.0.0.1:0", Access{}, b, nil, defaultLimits)
	refused := "admin: cross-origin request refused: the Origin or Sec-Fetch-Site header shows it comes from another site's page"
	for _, hdr := range []map[string]string{
		{"Origin": "http://evil.example", "Content-Type": "text/plain"},
		{"Origin": "null", "Content-Type": "text/plain"},
		{"Origin": "ftp://" + s.Addr()},
		{"Origin": "http://127.0.0.1"},
		{"Origin": "http://" + s.Addr() + ".evil.example"},
		{"Origin": "http://localhost:1"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
		{"Origin": "http://" + s.Addr(), "Sec-Fetch-Site": "cross-site"},
	} {
		assert.Equal(t, answer{403, "", refused}, request(t, s, "POST", "/admin/reload", "", hdr), "%v", hdr)
		assert.Equal(t, 403, request(t, s, "GET", "/admin/routes", "", hdr).status, "%v", hdr)
	}
	assert.Zero(t, b.reloadCount(), "no reload from another origin")

	for _, hdr := range []map[string]string{
		{"Origin": "http://" + s.Addr(), "Sec-Fetch-Site": "same-origin"},
		{"Origin": "https://" + s.Addr()},
		{"Sec-Fetch-Site": "none"},
	} {
		assert.Equal(t, 200, request(t, s, "POST", "/admin/reload", "", hdr).status, "%v", hdr)
	}
}

// SetAccess applies to the next request; a listener off loopback cannot
// lose its token, at start or later.
func TestSetAccess(t *testing.T) {
	b := &fakeBackend{routes: []string{"4"}}
	s := startOn(t, "127.0.0.1:0", Access{}, b, nil, defaultLimits)
	require.NoError(t, s.SetAccess(Access{Token: testToken}))
	assert.Equal(t, 401, request(t, s, "GET", "/admin/routes", "", nil).status)
	require.NoError(t, s.SetAccess(Access{Token: testToken + "2"}))
	assert.Equal(t, 401, request(t, s, "GET", "/admin/routes", "", bearer(testToken)).status, "the old token is gone")
	assert.Equal(t, 200, request(t, s, "GET", "/admin/routes", "", bearer(testToken+"2")).status)

	_, err := New("0.0.0.0:0", Access{}, b, nil, nil)
	require.ErrorIs(t, err, ErrTokenRequired)
	wide := startOn(t, "0.0.0.0:0", Access{Token: testToken}, b, nil, defaultLimits)
	require.ErrorIs(t, wide.SetAccess(Access{}), ErrTokenRequired)
	assert.Equal(t, 401, request(t, wide, "GET", "/admin/routes", "", nil).status, "the token stays in force")
}
