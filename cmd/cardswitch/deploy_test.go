package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeployClusterConfigs: the example node configs in deploy/cluster are
// accepted by `routes check` (their /etc/cardswitch files made real in a
// temporary folder), name different nodes, and route alike; and the
// HAProxy example checks the admin port's /readyz with a Host header the
// nodes accept.
func TestDeployClusterConfigs(t *testing.T) {
	etc := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(etc, "admin.token"), []byte(strings.Repeat("t", 32)+"\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(etc, "journal.key"), []byte(strings.Repeat("5a", 32)+"\n"), 0o600))
	var routes []string
	for _, n := range []string{"sw-1", "sw-2"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "deploy", "cluster", n+".yaml"))
		require.NoError(t, err)
		text := strings.ReplaceAll(string(src), "/etc/cardswitch", etc)
		assert.Contains(t, text, "node: "+n)
		cfg := writeFile(t, n+".yaml", text)
		out, stderr, code := run(t, "routes", "check", "--config", cfg)
		require.Equal(t, 0, code, "%s: %s", n, stderr)
		assert.Contains(t, out, "OK (2 issuers, 3 routes")
		routes = append(routes, text[strings.Index(text, "\nissuers:"):])
	}
	assert.Equal(t, routes[0], routes[1], "both nodes route alike")

	hap, err := os.ReadFile(filepath.Join("..", "..", "deploy", "haproxy", "haproxy.cfg"))
	require.NoError(t, err)
	for _, want := range []string{"mode tcp", "balance leastconn", "option httpchk", "uri /readyz",
		"hdr Host cardswitch-check", "check port 8080"} {
		assert.Contains(t, string(hap), want)
	}
}
