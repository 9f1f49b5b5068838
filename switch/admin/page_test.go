package admin

import (
	"io"
	"io/fs"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/switch/admin/status"
)

// getPage fetches path with the bearer token (none when empty) and
// returns the response with its body read.
func getPage(t *testing.T, s *Server, path, token string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest("GET", "http://"+s.Addr()+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// The page and its files are served as embedded, each with its type and
// the headers that confine it: the CSP (own origin only, nothing inline,
// no framing), no caching, no sniffing, no referrer.
func TestStatusPageFiles(t *testing.T) {
	s := start(t, &fakeBackend{}, nil, defaultLimits)
	for path, want := range map[string]struct{ file, ctype string }{
		"/status":           {"index.html", "text/html; charset=utf-8"},
		"/status/app.js":    {"app.js", "text/javascript; charset=utf-8"},
		"/status/style.css": {"style.css", "text/css; charset=utf-8"},
	} {
		resp, body := getPage(t, s, path, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		file, err := fs.ReadFile(status.Files, want.file)
		require.NoError(t, err)
		assert.Equal(t, string(file), body, path)
		h := resp.Header
		assert.Equal(t, want.ctype, h.Get("Content-Type"), path)
		assert.Equal(t, statusCSP, h.Get("Content-Security-Policy"), path)
		assert.Contains(t, statusCSP, "default-src 'self'")
		assert.Contains(t, statusCSP, "frame-ancestors 'none'")
		assert.Equal(t, "no-store", h.Get("Cache-Control"), path)
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), path)
	}
	resp, _ := getPage(t, s, "/status/nothing.js", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// The sign-out button shows only when there is a token to sign in with;
// without one there is no session to end.
func TestStatusPageSignOutOnlyWithToken(t *testing.T) {
	open := start(t, &fakeBackend{}, nil, defaultLimits)
	_, body := getPage(t, open, "/status", "")
	assert.Contains(t, body, `id="logout-form" hidden`)

	locked := startOn(t, "127.0.0.1:0", Access{Token: testToken}, &fakeBackend{}, nil, defaultLimits)
	resp, body := getPage(t, locked, "/status", testToken)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `id="logout-form">`)
	assert.NotContains(t, body, `id="logout-form" hidden`)
}
