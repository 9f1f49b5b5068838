package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardswitch/cardswitch/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run executes the real binary and returns stdout, stderr and exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runStdin(t, "", args...)
}

func TestRoutesCheck(t *testing.T) {
	out, _, code := run(t, "routes", "check", "--config", "../../testdata/example.yaml")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "example.yaml: OK")

	bad, _ := filepath.Glob("../../testdata/bad/*.yaml")
	require.NotEmpty(t, bad)
	for _, f := range bad {
		_, stderr, code := run(t, "routes", "check", "--config", f)
		assert.Equal(t, 1, code, f)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		for _, l := range lines {
			assert.True(t, strings.HasPrefix(l, f+": "), "each problem on its own line naming the file: %q", l)
		}
	}
	_, stderr, code := run(t, "routes", "check", "--config", "../../testdata/nope.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "nope.yaml")
}

func TestRoutesLookup(t *testing.T) {
	out, _, code := run(t, "routes", "lookup", "--config", "../../testdata/example.yaml", "4000001234567899")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "400000******7899 -> bank-b")
	assert.Contains(t, out, `bin "40000012" -> bank-b: wins`)
	assert.Contains(t, out, `bin "4" -> bank-a: loses: shorter prefix`)
	assert.NotContains(t, out, "4000001234567899", "PAN masked")

	out, _, code = run(t, "routes", "lookup", "--config", "../../testdata/example.yaml", "6011000000000004")
	assert.Equal(t, 2, code, "no route: exit 2")
	assert.Contains(t, out, "no issuer")
}

func TestConfigDefaultIsTheEmbeddedConfig(t *testing.T) {
	out, _, code := run(t, "config", "default")
	require.Equal(t, 0, code)
	cfg, err := config.LoadBytes("printed", []byte(out))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8583", cfg.Listen.Address)
	assert.Len(t, cfg.Simulators, 2)
}

// The embedded default's text with its fixed ports made free ones, so that
// the test passes beside a switch started with the README's first command
// (which holds 8583, 8080, 9101 and 9102); the environment must win over
// the file's listen address.
func TestEnvOverridesListenAddress(t *testing.T) {
	_, listening := serveOnFreePorts(t, []string{"CARDSWITCH_LISTEN_ADDRESS=127.0.0.1:0", "CARDSWITCH_ADMIN_ADDRESS=127.0.0.1:0",
		"CARDSWITCH_JOURNAL_PATH=" + filepath.Join(t.TempDir(), "j.db")}, string(config.DefaultYAML))
	file, err := config.Load(listening["config"].(string))
	require.NoError(t, err)
	assert.NotEqual(t, file.Listen.Address, listening["addr"], "the environment's address, not the file's")
}

func TestParseRule(t *testing.T) {
	r, err := parseRule("pan_suffix=0051,code=51")
	require.NoError(t, err)
	assert.Equal(t, config.SimRule{PANSuffix: "0051", Code: "51"}, r)
	r, err = parseRule("amount=999,no_answer")
	require.NoError(t, err)
	assert.Equal(t, config.SimRule{Amount: 999, NoAnswer: true}, r)
	_, err = parseRule("pan=4")
	assert.ErrorContains(t, err, `unknown key "pan"`)
	_, err = parseRule("delay=soon")
	assert.ErrorContains(t, err, "delay")
}

// serve without --config runs on the embedded default (the README's first
// command); TestEnvOverridesListenAddress serves its text from a file.
func TestNoConfigIsTheEmbeddedDefault(t *testing.T) {
	cfg, err := loadConfig("")
	require.NoError(t, err)
	assert.Equal(t, config.DefaultSource, cfg.Source)
	assert.Equal(t, "127.0.0.1:8583", cfg.Listen.Address)
}

// d. `serve` applies memory_limit (here from the environment) to the
// process, and an operator's GOMEMLIMIT wins over it.
func TestServeAppliesMemoryLimit(t *testing.T) {
	env := func(more ...string) []string {
		return append([]string{"CARDSWITCH_LISTEN_ADDRESS=127.0.0.1:0", "CARDSWITCH_ADMIN_ADDRESS=127.0.0.1:0",
			"CARDSWITCH_JOURNAL_PATH=" + filepath.Join(t.TempDir(), "j.db"), "CARDSWITCH_MEMORY_LIMIT=256MiB",
			"GOMEMLIMIT="}, more...)
	}
	p, _ := serveOnFreePorts(t, env(), string(config.DefaultYAML))
	p.waitLog(t, "garbage collector", map[string]string{"memory_limit": "256MiB", "memory_limit_from": "config"})

	p, _ = serveOnFreePorts(t, env("GOMEMLIMIT=300MiB"), string(config.DefaultYAML))
	p.waitLog(t, "garbage collector", map[string]string{"memory_limit": "300MiB", "memory_limit_from": "GOMEMLIMIT"})
}
