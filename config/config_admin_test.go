package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodToken = "0123456789abcdef0123456789abcdef"

// tokenFiles writes the token files the admin tests refer to as DIR/name.
func tokenFiles(t *testing.T) string {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"good": goodToken + "\n", "crlf": goodToken + "\r\n", "bare": goodToken,
		"empty": "", "newline": "\n", "short": "0123456789abcde\n",
		"spaced": "0123456789 abcdef\n", "lines": goodToken + "\nsecond\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	return dir
}

// A non-loopback admin address without a token is refused at load with the
// rule named; a token file must hold a usable token.
func TestAdminTokenValidation(t *testing.T) {
	dir := tokenFiles(t)
	notLoopback := `: not a loopback address and admin.token_file is not set: anyone who reaches it could reload ` +
		`the configuration; set admin.token_file, or bind 127.0.0.1 or [::1]`
	tests := []struct {
		name, admin string
		want        []string
	}{
		{"all interfaces v4", `{address: "0.0.0.0:8080"}`, []string{`t.yaml: admin.address: "0.0.0.0:8080"` + notLoopback}},
		{"all interfaces v6", `{address: "[::]:8080"}`, []string{`t.yaml: admin.address: "[::]:8080"` + notLoopback}},
		{"empty host", `{address: ":0"}`, []string{`t.yaml: admin.address: ":0"` + notLoopback}},
		{"other IP", `{address: "10.1.2.3:8080"}`, []string{`t.yaml: admin.address: "10.1.2.3:8080"` + notLoopback}},
		{"host name", `{address: "admin.example:8080"}`, []string{`t.yaml: admin.address: "admin.example:8080"` + notLoopback}},
		{"localhost is a name", `{address: "localhost:8080"}`, []string{`t.yaml: admin.address: "localhost:8080"` + notLoopback}},
		{"missing file", `{address: "0.0.0.0:8080", token_file: DIR/nope}`, []string{
			`t.yaml: admin.token_file: "DIR/nope": cannot read: no such file or directory`}},
		{"empty file", `{address: "127.0.0.1:0", token_file: DIR/empty}`, []string{
			`t.yaml: admin.token_file: "DIR/empty": is empty: it must hold the admin token`}},
		{"only a newline", `{address: "127.0.0.1:0", token_file: DIR/newline}`, []string{
			`t.yaml: admin.token_file: "DIR/newline": is empty: it must hold the admin token`}},
		{"short", `{address: "127.0.0.1:0", token_file: DIR/short}`, []string{
			`t.yaml: admin.token_file: "DIR/short": the token has 15 characters: at least 16 required`}},
		{"space", `{address: "127.0.0.1:0", token_file: DIR/spaced}`, []string{
			`t.yaml: admin.token_file: "DIR/spaced": the token must be visible ASCII only (no spaces, control characters or further lines)`}},
		{"two lines", `{address: "127.0.0.1:0", token_file: DIR/lines}`, []string{
			`t.yaml: admin.token_file: "DIR/lines": the token must be visible ASCII only (no spaces, control characters or further lines)`}},
		{"bad hosts", `{address: "127.0.0.1:0", hosts: ["", "http://a.example", "::1", "a.example:0", "a.example:x"]}`, []string{
			`t.yaml: admin.hosts[0]: "": want a host name or host:port, as in the Host header`,
			`t.yaml: admin.hosts[1]: "http://a.example": want a host name or host:port, as in the Host header`,
			`t.yaml: admin.hosts[2]: "::1": want a host name or host:port; write an IPv6 address in brackets`,
			`t.yaml: admin.hosts[3]: "a.example:0": want host:port with a port 1..65535`,
			`t.yaml: admin.hosts[4]: "a.example:x": want host:port with a port 1..65535`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBytes("t.yaml", []byte(minimal+"admin: "+strings.ReplaceAll(tt.admin, "DIR", dir)+"\n"))
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			var got []string
			for _, p := range ve.Lines() {
				got = append(got, strings.ReplaceAll(p, dir, "DIR"))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAdminTokenLoaded(t *testing.T) {
	dir := tokenFiles(t)
	for _, name := range []string{"good", "crlf", "bare"} {
		cfg, err := LoadBytes("t.yaml", []byte(minimal+"admin: {address: \"0.0.0.0:0\", token_file: "+dir+"/"+name+
			", hosts: [Admin.Example, \"admin.example:8443\", \"[::1]:80\"]}\n"))
		require.NoError(t, err, name)
		assert.Equal(t, Admin{Address: "0.0.0.0:0", TokenFile: dir + "/" + name, Token: goodToken,
			Hosts: []string{"admin.example", "admin.example:8443", "[::1]:80"}}, cfg.Admin, name)
	}
	for _, addr := range []string{"127.0.0.1:8080", "127.1.2.3:0", "[::1]:8080"} {
		cfg, err := LoadBytes("t.yaml", []byte(minimal+"admin: {address: \""+addr+"\"}\n"))
		require.NoError(t, err, "loopback needs no token: %s", addr)
		assert.Equal(t, Admin{Address: addr}, cfg.Admin)
	}
}

func TestAdminTokenFromEnv(t *testing.T) {
	dir := tokenFiles(t)
	t.Setenv("CARDSWITCH_ADMIN_ADDRESS", "0.0.0.0:0")
	_, err := LoadBytes("t.yaml", []byte(minimal))
	require.ErrorContains(t, err, `CARDSWITCH_ADMIN_ADDRESS (admin.address): "0.0.0.0:0": not a loopback address and admin.token_file is not set`)

	t.Setenv("CARDSWITCH_ADMIN_TOKEN_FILE", dir+"/good")
	cfg, err := LoadBytes("t.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, goodToken, cfg.Admin.Token)
}

// The token file and hosts apply on reload; the diff names the keys, never
// the token.
func TestAdminDiffIsReloadable(t *testing.T) {
	dir := tokenFiles(t)
	old, err := LoadBytes("a.yaml", []byte(minimal+"admin: {address: \"127.0.0.1:0\"}\n"))
	require.NoError(t, err)
	cfg, err := LoadBytes("b.yaml", []byte(minimal+"admin: {address: \"127.0.0.1:0\", token_file: "+dir+"/good, hosts: [a.example]}\n"))
	require.NoError(t, err)
	d := Diff(old, cfg)
	assert.Empty(t, d.Restart)
	assert.Equal(t, []string{"admin.token_file", "admin.hosts"}, d.Other)
	assert.NotContains(t, d.String(), goodToken)
}
