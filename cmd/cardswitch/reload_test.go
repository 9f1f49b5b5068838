package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startIssuer runs an in-process simulator whose approval codes start with prefix.
func startIssuer(t *testing.T, prefix string) string {
	t.Helper()
	sim, err := issuersim.New(config.Simulator{Name: prefix, Listen: "127.0.0.1:0", ApprovalCodePrefix: prefix}, nil)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.Serve() }()
	t.Cleanup(func() { _ = sim.Close(); <-done })
	return sim.Addr()
}

// shortHash is the hash as the reload log lines print it.
func shortHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])[:12]
}

// SIGHUP reloads the config file: a valid change is applied (new requests
// follow it), an invalid one is logged and refused while the process keeps
// serving the old table, and `routes show` reads the table in force.
func TestServeSIGHUPReload(t *testing.T) {
	simA, simB := startIssuer(t, "A"), startIssuer(t, "B")
	// Both ports are the kernel's, read from the log: the reloads below
	// keep the same text, so they rebind nothing.
	head := `listen: {address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
issuers:
  - {name: bank-a, endpoints: [` + simA + `], reconnect_min: 10ms, reconnect_max: 100ms}
  - {name: bank-b, endpoints: [` + simB + `], reconnect_min: 10ms, reconnect_max: 100ms}
routes:
`
	v1 := head + "  - {bin: \"4\", issuer: bank-a}\n  - {bin: \"5\", issuer: bank-b}\n"
	v2 := head + "  - {bin: \"4\", issuer: bank-b}\n  - {bin: \"5\", issuer: bank-b}\n"
	bad := head + "  - {bin: \"4x\", issuer: bank-a}\n"

	// The file watch is off, so each reload below comes from the SIGHUP.
	path := writeFile(t, "cardswitch.yaml", v1)
	write := func(content string) { require.NoError(t, os.WriteFile(path, []byte(content), 0o600)) }

	p := startServe(t, "--config", path, "--watch=false")
	listening := p.waitLog(t, "cardswitch listening", nil)
	addr, admin := listening["addr"].(string), listening["admin"].(string)
	p.waitLog(t, "issuer link up", map[string]string{"issuer": "bank-a"})
	p.waitLog(t, "issuer link up", map[string]string{"issuer": "bank-b"})
	c, err := acqclient.Dial(addr, 10*time.Second)
	require.NoError(t, err)
	defer c.Close()
	answeredBy := func(pan string) string {
		t.Helper()
		m, err := acqclient.Request{PAN: pan, Amount: 100, STAN: 1, RRN: "000000000001", Terminal: "TERM0001"}.Message()
		require.NoError(t, err)
		resp, err := c.Send(m)
		require.NoError(t, err)
		code, _ := resp.GetString(39)
		require.Equal(t, "00", code, pan)
		approval, _ := resp.GetString(38)
		return approval[:1]
	}
	require.Equal(t, "A", answeredBy("4111111111111111"))

	// A SIGHUP with nothing changed reloads and finds the same hash.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	p.waitLog(t, "config unchanged (same content hash); nothing to do", map[string]string{"hash": shortHash(v1)})

	write(v2)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	p.waitLog(t, "config reloaded", map[string]string{"hash": shortHash(v2), "rules_changed": "1"})
	assert.Equal(t, "B", answeredBy("4111111111111111"), "the moved BIN goes to its new issuer")

	write(bad)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	rejected := p.waitLog(t, "config reload rejected; the running configuration stays in force", nil)
	assert.Contains(t, rejected["err"], `routes[0] (bin "4x"): not all digits`)
	assert.Equal(t, "B", answeredBy("4111111111111111"), "the old table still routes")

	out, err := runShow(t, "--admin", admin)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "hash       "+shortHash(v2)), out)
	assert.Contains(t, out, "source     "+path+"\n")
	assert.Contains(t, out, "BIN  ISSUER\n4    bank-b\n5    bank-b\n(2 rules)\n")
	assert.Contains(t, out, "bank-a  5s       0          "+simA+"  up")
	assert.Contains(t, out, "bank-b  5s       0          "+simB+"  up")
}
