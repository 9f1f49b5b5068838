package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/routing"
)

// diffConfig builds a config from "bin=issuer" rules over issuers bank-a..c.
func diffConfig(t *testing.T, def string, rules ...string) *Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("issuers:\n")
	for i, name := range []string{"bank-a", "bank-b", "bank-c"} {
		fmt.Fprintf(&b, "  - {name: %s, endpoints: [\"127.0.0.1:%d\"]}\n", name, 9101+i)
	}
	b.WriteString("routes:\n")
	for _, r := range rules {
		bin, issuer, _ := strings.Cut(r, "=")
		fmt.Fprintf(&b, "  - {bin: %q, issuer: %s}\n", bin, issuer)
	}
	fmt.Fprintf(&b, "default_issuer: %q\n", def)
	cfg, err := LoadBytes("t.yaml", []byte(b.String()))
	require.NoError(t, err)
	return cfg
}

func TestDiffRoutesAndMoves(t *testing.T) {
	tests := []struct {
		name   string
		oldDef string
		old    []string
		newDef string
		new    []string
		want   string
	}{
		{"same", "", []string{"4=bank-a"}, "", []string{"4=bank-a"}, ""},
		{"added longer prefix carves out of shorter", "", []string{"4=bank-a"}, "", []string{"4=bank-a", "41=bank-b"},
			"+ routes[1] bin \"41\" -> bank-b\nmoves: 41-41: bank-a -> bank-b\n"},
		{"removed rule falls back to shorter", "", []string{"4=bank-a", "4111=bank-b"}, "", []string{"4=bank-a"},
			"- routes[1] bin \"4111\" -> bank-b\nmoves: 4111-4111: bank-b -> bank-a\n"},
		{"removed rule falls back to nothing", "", []string{"5=bank-a"}, "", []string{},
			"- routes[0] bin \"5\" -> bank-a\nmoves: 5-5: bank-a -> (no route)\n"},
		{"removed rule falls back to default", "bank-c", []string{"5=bank-a"}, "bank-c", []string{},
			"- routes[0] bin \"5\" -> bank-a\nmoves: 5-5: bank-a -> bank-c\n"},
		{"changed issuer", "", []string{"4=bank-a", "41=bank-b"}, "", []string{"4=bank-c", "41=bank-b"},
			"~ routes[0] bin \"4\" bank-a -> bank-c\nmoves: 40-40: bank-a -> bank-c\nmoves: 42-49: bank-a -> bank-c\n"},
		{"same rule reordered", "", []string{"4=bank-a", "5=bank-b"}, "", []string{"5=bank-b", "4=bank-a"}, ""},
		{"range narrowed; adjacent spans merge", "", []string{"411100-411199=bank-a"}, "", []string{"411100-411149=bank-a"},
			"+ routes[0] bin \"411100-411149\" -> bank-a\n- routes[0] bin \"411100-411199\" -> bank-a\nmoves: 411150-411199: bank-a -> (no route)\n"},
		{"same PANs, other bin text: no move", "", []string{"41=bank-a"}, "", []string{"41-41=bank-a"},
			"+ routes[0] bin \"41-41\" -> bank-a\n- routes[0] bin \"41\" -> bank-a\n"},
		{"narrower range wins inside wider", "", []string{"400000-499999=bank-a"}, "", []string{"400000-499999=bank-a", "410000-419999=bank-b"},
			"+ routes[1] bin \"410000-419999\" -> bank-b\nmoves: 410000-419999: bank-a -> bank-b\n"},
		{"longer rule shields from shorter change", "", []string{"4=bank-a", "41=bank-b"}, "", []string{"4=bank-c", "41=bank-b", "42=bank-a"},
			"+ routes[2] bin \"42\" -> bank-a\n~ routes[0] bin \"4\" bank-a -> bank-c\nmoves: 40-40: bank-a -> bank-c\nmoves: 43-49: bank-a -> bank-c\n"},
		{"default issuer set", "", []string{"4=bank-a"}, "bank-b", []string{"4=bank-a"},
			"moves: PANs no rule matches (default_issuer): (no route) -> bank-b\n"},
		{"default issuer changes, rule removed", "bank-a", []string{"4=bank-b"}, "bank-c", []string{},
			"- routes[0] bin \"4\" -> bank-b\nmoves: PANs no rule matches (default_issuer): bank-a -> bank-c\nmoves: 4-4: bank-b -> bank-c\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := diffConfig(t, tt.oldDef, tt.old...)
			new := diffConfig(t, tt.newDef, tt.new...)
			d := Diff(old, new)
			assert.Equal(t, tt.want, d.String())
			assert.Equal(t, tt.want == "", d.Empty())
		})
	}
}

func TestDiffMoveFields(t *testing.T) {
	d := Diff(diffConfig(t, "", "411111-411199=bank-a"), diffConfig(t, "", "411111-411199=bank-b"))
	assert.Equal(t, []routing.Move{{From: "411111", To: "411199", Digits: 6, FromIssuer: "bank-a", ToIssuer: "bank-b"}}, d.Moves)
	assert.Equal(t, []RouteChange{{Index: 0, BIN: "411111-411199", Issuer: "bank-b", OldIssuer: "bank-a"}}, d.Changed)
}

func TestDiffIssuersAndKeys(t *testing.T) {
	old, err := LoadBytes("old.yaml", []byte(`
listen: {address: "127.0.0.1:8583", idle_timeout: 1m}
issuers:
  - {name: bank-a, endpoints: ["127.0.0.1:9101"]}
  - {name: bank-b, endpoints: ["127.0.0.1:9102"]}
  - {name: bank-c, endpoints: ["127.0.0.1:9103"]}
routes: [{bin: "4", issuer: bank-a}]
`))
	require.NoError(t, err)
	new, err := LoadBytes("new.yaml", []byte(`
listen: {address: "127.0.0.1:9583", idle_timeout: 2m, close_linger: 1s}
admin: {address: "127.0.0.1:0"}
journal: {path: j.db, sync: full}
reversals: {retry_min: 2s}
issuers:
  - {name: bank-a, endpoints: ["127.0.0.1:9101"]}
  - {name: bank-b, endpoints: ["127.0.0.1:9102"], timeout: 1s}
  - {name: bank-d, endpoints: ["127.0.0.1:9104"]}
routes: [{bin: "4", issuer: bank-a}]
acquirers: [{name: acq, institution_id: "1", allow_cidrs: [127.0.0.0/8]}]
`))
	require.NoError(t, err)
	d := Diff(old, new)
	assert.Equal(t, []string{"bank-d"}, d.IssuersAdded)
	assert.Equal(t, []string{"bank-c"}, d.IssuersRemoved)
	assert.Equal(t, []string{"bank-b"}, d.IssuersChanged)
	assert.Equal(t, []string{"listen.address", "admin.address", "journal.path", "journal.sync"}, d.Restart)
	assert.Equal(t, []string{"listen.close_linger", "listen.idle_timeout", "reversals", "acquirers"}, d.Other)
	assert.Empty(t, d.Moves)
	assert.Equal(t, `+ issuer bank-d
- issuer bank-c
~ issuer bank-b
restart needed: listen.address
restart needed: admin.address
restart needed: journal.path
restart needed: journal.sync
~ listen.close_linger
~ listen.idle_timeout
~ reversals
~ acquirers
`, d.String())
	assert.True(t, Diff(old, old).Empty())
}

// listen.tls: other files apply on reload (new handshakes); adding or
// removing the section (TLS to plain TCP or back) needs a restart.
// issuers[].connections changes the issuer (its links are added or
// drained).
func TestDiffListenTLSAndConnections(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a.crt", "a.key", "b.crt", "b.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600))
	}
	load := func(tlsFiles string, conns int) *Config {
		t.Helper()
		y := "issuers: [{name: bank-a, endpoints: [\"127.0.0.1:9101\"], connections: " + strconv.Itoa(conns) + "}]\n" +
			"routes: [{bin: \"4\", issuer: bank-a}]\n"
		if tlsFiles != "" {
			y += fmt.Sprintf("listen: {tls: {cert_file: %q, key_file: %q}}\n",
				filepath.Join(dir, tlsFiles+".crt"), filepath.Join(dir, tlsFiles+".key"))
		}
		c, err := LoadBytes("t.yaml", []byte(y))
		require.NoError(t, err)
		return c
	}
	plain, a, b := load("", 1), load("a", 1), load("b", 3)
	d := Diff(a, b)
	assert.Empty(t, d.Restart)
	assert.Equal(t, []string{"listen.tls"}, d.Other)
	assert.Equal(t, []string{"bank-a"}, d.IssuersChanged)
	assert.Equal(t, []string{"listen.tls"}, Diff(plain, a).Restart)
	assert.Equal(t, []string{"listen.tls"}, Diff(a, plain).Restart)
	assert.Equal(t, 3, b.Issuers[0].Connections)
	assert.Equal(t, DefaultConnections, load("", DefaultConnections).Issuers[0].Connections)
}

func TestDiffDialects(t *testing.T) {
	old, err := LoadBytes("old.yaml", []byte(minimal))
	require.NoError(t, err)
	new, err := LoadBytes("new.yaml", []byte(`
listen: {dialect: iso87binary}
listeners: [{name: pos, address: "127.0.0.1:8600", dialect: iso87binary-tpdu}]
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101]
    dialect: iso93ascii
routes:
  - bin: "4"
    issuer: bank-a
`))
	require.NoError(t, err)
	d := Diff(old, new)
	assert.Equal(t, []string{"bank-a"}, d.IssuersChanged, "an issuer's dialect is reloadable: its links are replaced")
	assert.Equal(t, []string{"listen.dialect", "listeners"}, d.Restart)
}
