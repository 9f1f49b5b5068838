package config

import (
	panmask "github.com/cardswitch/cardswitch/internal/pan"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/routing"
)

// minimal is the smallest valid config; validation cases append to it.
const minimal = `
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101]
routes:
  - bin: "4"
    issuer: bank-a
`

func TestLoadBytesValidation(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // exact lines
	}{
		{"unknown top-level key", minimal + "extra: 1\n", []string{`t.yaml: unknown key "extra"`}},
		{"unknown issuer key", `
issuers:
  - name: bank-a
    endpoint: 127.0.0.1:9101
`, []string{
			`t.yaml: issuers[0]: unknown key "endpoint"`,
			`t.yaml: issuers[0] (bank-a): at least one endpoint is required`,
		}},
		{"unknown keys in listen, routes, simulators, rules", `
listen: {adress: x}
issuers: [{name: bank-a, endpoints: ["127.0.0.1:9101"]}]
routes: [{bin: "4", issuer: bank-a, isuer: bank-b}]
simulators:
  - listen: 127.0.0.1:9101
    colour: red
    rules: [{code: "05", suffix: "0005"}]
`, []string{
			`t.yaml: listen: unknown key "adress"`,
			`t.yaml: routes[0]: unknown key "isuer"`,
			// The decoder reports nested keys before its parent's.
			`t.yaml: simulators[0].rules[0]: unknown key "suffix"`,
			`t.yaml: simulators[0]: unknown key "colour"`,
		}},
		{"wrong type", minimal + "listen: 5\n", []string{`t.yaml: listen: expected a mapping, got int`}},
		{"wrong type in list", minimal + "simulators: [[1]]\n", []string{`t.yaml: simulators[0]: expected a mapping, got slice`}},
		// The line is the parser's: where it gave up on the enclosing block.
		{"invalid YAML", "issuers:\n  - name: a\n bad: [\n", []string{`t.yaml: invalid YAML: line 2: did not find expected key`}},
		{"duplicate YAML key", minimal + "default_issuer: a\ndefault_issuer: b\n", []string{`t.yaml: invalid YAML: line 9: mapping key "default_issuer" already defined at line 8`}},
		{"listen address empty", minimal + "listen: {address: \"\"}\n", []string{`t.yaml: listen.address: "": must be host:port, is empty`}},
		{"listen address not host:port", minimal + "listen: {address: \"8583\"}\n", []string{`t.yaml: listen.address: "8583": must be host:port`}},
		{"listen port not a number", minimal + "listen: {address: \"localhost:http\"}\n", []string{`t.yaml: listen.address: "localhost:http": port must be a number 0..65535`}},
		{"max_message_size too small", minimal + "listen: {max_message_size: 63}\n", []string{`t.yaml: listen.max_message_size: 63: must be between 64 and 65535`}},
		{"max_message_size too big", minimal + "listen: {max_message_size: 65536}\n", []string{`t.yaml: listen.max_message_size: 65536: must be between 64 and 65535`}},
		{"max_message_size not a number", minimal + "listen: {max_message_size: 8k}\n", []string{`t.yaml: listen.max_message_size: "8k": not an integer`}},
		{"shutdown_timeout negative", minimal + "listen: {shutdown_timeout: -1s}\n", []string{`t.yaml: listen.shutdown_timeout: "-1s": must not be negative`}},
		{"close_linger negative", minimal + "listen: {close_linger: -250ms}\n", []string{`t.yaml: listen.close_linger: "-250ms": must not be negative`}},
		{"close_linger not a duration", minimal + "listen: {close_linger: soon}\n", []string{`t.yaml: listen.close_linger: "soon": invalid duration`}},
		{"issuer problems", `
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101, "127.0.0.1", ":9101", "127.0.0.1:0", 127.0.0.1:9101]
    connections: 0
    timeout: 5x
    echo_interval: -1s
    connect_timeout: 0s
    reconnect_min: 2s
    reconnect_max: 1s
  - name: bank-a
  - endpoints: [127.0.0.1:9102]
    connections: 65
    timeout: 5
default_issuer: bank-z
`, []string{
			`t.yaml: issuers[0] (bank-a): endpoints[1] "127.0.0.1": must be host:port`,
			`t.yaml: issuers[0] (bank-a): endpoints[2] ":9101": must be host:port, host is empty`,
			`t.yaml: issuers[0] (bank-a): endpoints[3] "127.0.0.1:0": port must not be 0`,
			`t.yaml: issuers[0] (bank-a): endpoints[4] "127.0.0.1:9101": duplicate endpoint`,
			`t.yaml: issuers[0] (bank-a): connections "0": must be 1..64`,
			`t.yaml: issuers[0] (bank-a): timeout "5x": invalid duration`,
			`t.yaml: issuers[0] (bank-a): echo_interval "-1s": must not be negative`,
			`t.yaml: issuers[0] (bank-a): connect_timeout "0s": must be positive`,
			`t.yaml: issuers[0] (bank-a): reconnect_min 2s is above reconnect_max 1s`,
			`t.yaml: issuers[1] (bank-a): duplicate issuer name, first used by issuers[0]`,
			`t.yaml: issuers[1] (bank-a): at least one endpoint is required`,
			`t.yaml: issuers[2]: name is required`,
			`t.yaml: issuers[2]: connections "65": must be 1..64`,
			`t.yaml: issuers[2]: timeout "5": invalid duration`,
			`t.yaml: default_issuer: unknown issuer "bank-z"`,
		}},
		{"route problems", `
issuers: [{name: bank-a, endpoints: ["127.0.0.1:9101"]}]
routes:
  - {bin: "4x1", issuer: bank-a}
  - {bin: 4111, issuer: bank-a}
  - {bin: "5-", issuer: bank-b}
  - {issuer: bank-a}
`, []string{
			`t.yaml: routes[1] (bin "4111"): bin must be quoted (bin: "4111") so that leading zeros are kept`,
			`t.yaml: routes[0] (bin "4x1"): not all digits`,
			`t.yaml: routes[2] (bin "5-"): malformed range: want "LOW-HIGH"`,
			`t.yaml: routes[2] (bin "5-"): unknown issuer "bank-b"`,
			`t.yaml: routes[3] (bin ""): empty bin`,
		}},
		{"simulator problems", minimal + `
simulators:
  - name: a
    listen: 127.0.0.1:9201
    decline_above: -5
    latency: 1x
    approval_code_prefix: "AB-"
    rules:
      - {pan_suffix: "0051", code: "051"}
      - {pan_prefix: "4x", code: "5"}
      - {amount: 12.5, no_answer: true, malformed: true}
      - {pan_suffix: "0001"}
  - name: b
    listen: 127.0.0.1:9201
  - name: c
`, []string{
			`t.yaml: simulators[0] (a): approval_code_prefix "AB-": must be at most 6 letters or digits`,
			`t.yaml: simulators[0] (a): decline_above "-5": must not be negative`,
			`t.yaml: simulators[0] (a): latency "1x": invalid duration`,
			`t.yaml: simulators[0] (a).rules[0]: code "051": must be 2 letters or digits`,
			`t.yaml: simulators[0] (a).rules[1]: pan_prefix: must be digits`,
			`t.yaml: simulators[0] (a).rules[1]: code "5": must be 2 letters or digits`,
			`t.yaml: simulators[0] (a).rules[2]: amount "12.5": not an integer`,
			`t.yaml: simulators[0] (a).rules[2]: no_answer and malformed exclude each other`,
			`t.yaml: simulators[0] (a).rules[3]: does nothing: set code, delay, no_answer or malformed`,
			`t.yaml: simulators[1] (b): listen "127.0.0.1:9201": already used by simulators[0]`,
			`t.yaml: simulators[2] (c): listen "": must be host:port, is empty`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadBytes("t.yaml", []byte(tt.yaml))
			require.Error(t, err)
			assert.Nil(t, cfg)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "t.yaml", ve.Source)
			assert.Equal(t, tt.want, ve.Lines())
			assert.Equal(t, strings.Join(tt.want, "\n"), err.Error())
		})
	}
}

func TestLoadBytesDefaults(t *testing.T) {
	cfg, err := LoadBytes("min.yaml", []byte(minimal))
	require.NoError(t, err)
	listen, issuer := Defaults()
	assert.Equal(t, "min.yaml", cfg.Source)
	assert.Equal(t, listen, cfg.Listen)
	issuer.Name, issuer.Endpoints = "bank-a", []string{"127.0.0.1:9101"}
	assert.Equal(t, []Issuer{issuer}, cfg.Issuers)
	assert.Equal(t, []Route{{BIN: "4", Issuer: "bank-a"}}, cfg.Routes)
	assert.Empty(t, cfg.DefaultIssuer)
	assert.Empty(t, cfg.Simulators)
	require.NotNil(t, cfg.Table())
	assert.Equal(t, 0, cfg.IssuerIndex("bank-a"))
	assert.Equal(t, -1, cfg.IssuerIndex("bank-z"))
}

func TestLoadExample(t *testing.T) {
	cfg, err := Load("../testdata/example.yaml")
	require.NoError(t, err)
	listen, _ := Defaults()
	listen.Address, listen.MaxMessageSize, listen.ShutdownTimeout = "0.0.0.0:8583", 4096, 15*time.Second
	listen.CloseLinger = time.Second
	assert.Equal(t, listen, cfg.Listen)
	assert.Equal(t, Issuer{
		Name: "bank-a", Endpoints: []string{"10.0.1.10:9101", "10.0.1.11:9101"},
		Timeout: 4 * time.Second, EchoInterval: 20 * time.Second, ConnectTimeout: time.Second,
		ReconnectMin: 200 * time.Millisecond, ReconnectMax: 10 * time.Second, Connections: 1,
		Dialect: DefaultDialect,
		StandIn: StandIn{Window: DefaultStandInWindow, AdviceTTL: DefaultAdviceTTL, AdviceRate: DefaultAdviceRate},
	}, cfg.Issuers[0])
	// The PANs from the file's comment.
	for pan, want := range map[string]string{
		"4111111111111111": "bank-a",
		"4000001234567899": "bank-b",
		"4000500000000000": "bank-b",
		"5105105105105100": "bank-a",
		"5555555555554444": "bank-b",
		"2223000048410010": "bank-b",
		"6011000000000004": "",
	} {
		m, _ := cfg.Table().Lookup([]byte(pan))
		assert.Equal(t, want, m.Issuer, pan)
	}
}

func TestLoadSimulators(t *testing.T) {
	cfg, err := LoadBytes("sim.yaml", []byte(minimal+`
simulators:
  - name: demo
    listen: 127.0.0.1:9101
    decline_above: 100000
    latency: 10ms
    approval_code_prefix: "AB"
    rules:
      - {pan_suffix: "0051", code: "51"}
      - {pan_prefix: "4000000000", delay: 2s}
      - {amount: 999, no_answer: true}
      - {pan_suffix: "0096", malformed: true}
`))
	require.NoError(t, err)
	assert.Equal(t, []Simulator{{
		Name: "demo", Listen: "127.0.0.1:9101", DeclineAbove: 100000, Latency: 10 * time.Millisecond, ApprovalCodePrefix: "AB",
		Rules: []SimRule{
			{PANSuffix: "0051", Code: "51"},
			{PANPrefix: "4000000000", Delay: 2 * time.Second},
			{Amount: 999, NoAnswer: true},
			{PANSuffix: "0096", Malformed: true},
		},
	}}, cfg.Simulators)
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv("CARDSWITCH_LISTEN_ADDRESS", "127.0.0.1:18583")
	t.Setenv("CARDSWITCH_LISTEN_MAX_MESSAGE_SIZE", "1024")
	t.Setenv("CARDSWITCH_LISTEN_SHUTDOWN_TIMEOUT", "3s")
	t.Setenv("CARDSWITCH_DEFAULT_ISSUER", "bank-b")
	cfg, err := Load("../testdata/example.yaml")
	require.NoError(t, err)
	listen, _ := Defaults()
	listen.Address, listen.MaxMessageSize, listen.ShutdownTimeout = "127.0.0.1:18583", 1024, 3*time.Second
	listen.CloseLinger = time.Second // the file's
	assert.Equal(t, listen, cfg.Listen)
	assert.Equal(t, "bank-b", cfg.DefaultIssuer)
	m, ok := cfg.Table().Lookup([]byte("6011000000000004"))
	require.True(t, ok)
	assert.Equal(t, "bank-b", m.Issuer)

	cfg, err = LoadDefault()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:18583", cfg.Listen.Address)
}

func TestEnvOverrideIsValidated(t *testing.T) {
	t.Setenv("CARDSWITCH_LISTEN_MAX_MESSAGE_SIZE", "big")
	_, err := LoadBytes("t.yaml", []byte(minimal))
	require.EqualError(t, err, `CARDSWITCH_LISTEN_MAX_MESSAGE_SIZE (listen.max_message_size): "big": not an integer`)
}

func TestLoadTestdata(t *testing.T) {
	good, err := filepath.Glob("../testdata/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, good)
	for _, path := range good {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cfg, err := Load(path)
			require.NoError(t, err)
			assert.Equal(t, path, cfg.Source)
			assert.NotNil(t, cfg.Table())
		})
	}
	bad, err := filepath.Glob("../testdata/bad/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, bad)
	for _, path := range bad {
		t.Run("bad/"+filepath.Base(path), func(t *testing.T) {
			_, err := Load(path)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			for _, line := range ve.Lines() {
				assert.True(t, strings.HasPrefix(line, path+": "), line)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestLoadDefault(t *testing.T) {
	cfg, err := LoadDefault()
	require.NoError(t, err)
	assert.Equal(t, DefaultSource, cfg.Source)
	listen, _ := Defaults()
	assert.Equal(t, listen, cfg.Listen)
	assert.Equal(t, []string{"bank-a", "bank-b"}, cfg.IssuerNames())
	assert.Equal(t, []string{"127.0.0.1:9101"}, cfg.Issuers[0].Endpoints)
	assert.Equal(t, []string{"127.0.0.1:9102"}, cfg.Issuers[1].Endpoints)
	assert.Equal(t, []Route{{BIN: "4", Issuer: "bank-a"}, {BIN: "510000-559999", Issuer: "bank-b"}, {BIN: "2221-2720", Issuer: "bank-b"}}, cfg.Routes)
	assert.Empty(t, cfg.DefaultIssuer)
	require.Len(t, cfg.Simulators, 2)
	for i, sim := range cfg.Simulators {
		assert.Equal(t, cfg.Issuers[i].Endpoints[0], sim.Listen)
		assert.Equal(t, int64(100000), sim.DeclineAbove)
		assert.Equal(t, []SimRule{{PANSuffix: "0005", Code: "05"}, {PANSuffix: "0051", Code: "51"}}, sim.Rules)
	}
	m, ok := cfg.Table().Lookup([]byte("2223000048410010"))
	require.True(t, ok)
	assert.Equal(t, routing.Match{Issuer: "bank-b", IssuerIndex: 1, Rule: 2, BIN: "2221-2720"}, m)
}

// TestTestdataRouting checks the routing described in the files' comments.
func TestTestdataRouting(t *testing.T) {
	tests := []struct{ file, pan, want string }{
		{"default-issuer.yaml", "4111111111111111", "main-bank"},
		{"default-issuer.yaml", "341111111111111", "amex-gw"},
		{"default-issuer.yaml", "378282246310005", "amex-gw"},
		{"large-ranges.yaml", "3000000000000004", "wide"},
		{"large-ranges.yaml", "4111111111111111", "wide"},
		{"large-ranges.yaml", "5555555555554444", "mid"},
		{"large-ranges.yaml", "4539000000000000", "mid"},
		{"large-ranges.yaml", "4539999999000000", "narrow"},
		{"large-ranges.yaml", "0999999999912345", "narrow"},
		{"large-ranges.yaml", "6011000000000004", ""},
	}
	for _, tt := range tests {
		cfg, err := Load("../testdata/" + tt.file)
		require.NoError(t, err)
		m, _ := cfg.Table().Lookup([]byte(tt.pan))
		assert.Equal(t, tt.want, m.Issuer, "%s %s", tt.file, panmask.Mask([]byte(tt.pan)))
	}
}
