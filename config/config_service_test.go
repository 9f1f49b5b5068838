package config

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/keyfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pemFiles creates readable stand-ins for certificate files; validation
// checks only that they can be read, not their contents.
func pemFiles(t *testing.T) (dir string) {
	dir = t.TempDir()
	for _, name := range []string{"cert.pem", "key.pem", "ca.pem"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("-----BEGIN-----\n"), 0o600))
	}
	return dir
}

func TestLoadBytesServiceValidation(t *testing.T) {
	dir := pemFiles(t)
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"listen limits", minimal + `
listen: {idle_timeout: -1s, frame_timeout: 10, max_connections: 0, max_in_flight: -3}
`, []string{
			`t.yaml: listen.idle_timeout: "-1s": must not be negative`,
			`t.yaml: listen.frame_timeout: "10": invalid duration`,
			`t.yaml: listen.max_connections: "0": must be positive`,
			`t.yaml: listen.max_in_flight: "-3": must not be negative`,
		}},
		{"per-source caps", minimal + "listen: {max_connections_per_ip: 0, max_pending_per_ip: x}\n", []string{
			`t.yaml: listen.max_connections_per_ip: "0": must be positive`,
			`t.yaml: listen.max_pending_per_ip: "x": not an integer`,
		}},
		{"pending above the per-source cap", minimal + "listen: {max_connections_per_ip: 8, max_pending_per_ip: 9}\n", []string{
			`t.yaml: listen.max_pending_per_ip: 9: must not exceed listen.max_connections_per_ip (8)`,
		}},
		{"listen tls empty", minimal + "listen: {tls: {}}\n", []string{
			`t.yaml: listen.tls.cert_file: required when listen.tls is set`,
			`t.yaml: listen.tls.key_file: required when listen.tls is set`,
		}},
		{"listen tls files missing", minimal + `
listen:
  tls: {cert_file: DIR/nope.pem, key_file: DIR, client_ca_file: DIR/ca.pem}
`, []string{
			`t.yaml: listen.tls.cert_file: "DIR/nope.pem": no such file`,
			`t.yaml: listen.tls.key_file: "DIR": is a directory`,
		}},
		{"listen tls cert without key", minimal + "listen: {tls: {cert_file: DIR/cert.pem}}\n", []string{
			`t.yaml: listen.tls.key_file: required when listen.tls is set`,
		}},
		{"unknown tls key", minimal + "listen: {tls: {cert_file: DIR/cert.pem, key_file: DIR/key.pem, ca_file: x}}\n", []string{
			`t.yaml: listen.tls: unknown key "ca_file"`,
		}},
		{"issuer tls", `
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101]
    tls: {ca_file: DIR/nope.pem, cert_file: DIR/cert.pem}
  - name: bank-b
    endpoints: [127.0.0.1:9102]
    tls: {key_file: DIR/key.pem, server_name: bank-b.example}
  - name: bank-c
    endpoints: [127.0.0.1:9103]
    tls: {ca_file: DIR/ca.pem, cert_file: DIR/cert.pem, key_file: DIR/key.pem}
`, []string{
			`t.yaml: issuers[0] (bank-a): tls: set both cert_file and key_file, or neither`,
			`t.yaml: issuers[0] (bank-a): tls.ca_file "DIR/nope.pem": no such file`,
			`t.yaml: issuers[1] (bank-b): tls: set both cert_file and key_file, or neither`,
		}},
		{"unknown issuer tls key", `
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101]
    tls: {ca: DIR/ca.pem}
`, []string{
			`t.yaml: issuers[0].tls: unknown key "ca"`,
		}},
		{"admin address", minimal + "admin: {address: \"8080\"}\n", []string{
			`t.yaml: admin.address: "8080": must be host:port`,
		}},
		{"admin unknown key", minimal + "admin: {adress: x}\n", []string{
			`t.yaml: admin: unknown key "adress"`,
		}},
		{"journal window", minimal + "journal: {path: j.db, duplicate_window: 0s}\n", []string{
			`t.yaml: journal.duplicate_window: "0s": must be positive`,
		}},
		{"journal retention", minimal + "journal: {path: j.db, duplicate_window: 10m, retention: 5m}\n", []string{
			`t.yaml: journal.retention: 5m0s is shorter than duplicate_window 10m0s: duplicates could not be detected after a restart`,
		}},
		{"journal sync", minimal + "journal: {path: j.db, sync: always}\n", []string{
			`t.yaml: journal.sync: "always": want normal or full`,
		}},
		{"journal index lag zero", minimal + "journal: {path: j.db, index_lag_max: 0s}\n", []string{
			`t.yaml: journal.index_lag_max: "0s": must be positive`,
		}},
		{"journal index lag bad", minimal + "journal: {path: j.db, index_lag_max: soon}\n", []string{
			`t.yaml: journal.index_lag_max: "soon": invalid duration`,
		}},
		{"journal retention negative", minimal + "journal: {path: j.db, retention: -1h}\n", []string{
			`t.yaml: journal.retention: "-1h": must not be negative`,
		}},
		{"reversals", minimal + "reversals: {retry_min: 2m, retry_max: 1m}\n", []string{
			`t.yaml: reversals: retry_min 2m0s is above retry_max 1m0s`,
		}},
		{"reversals rate", minimal + "reversals: {rate: 0}\n", []string{
			`t.yaml: reversals.rate: "0": must be a positive number (reversals per second per issuer)`,
		}},
		{"memory limit", minimal + "memory_limit: 1GB\n", []string{
			`t.yaml: memory_limit: "1GB": want a byte count with an optional unit B, KiB, MiB, GiB or TiB (e.g. 1GiB), or 0 for none`,
		}},
		{"in-flight caps", minimal + "listen: {max_in_flight_total: -1}\n", []string{
			`t.yaml: listen.max_in_flight_total: "-1": must not be negative`,
		}},
		{"reversals bad durations", minimal + "reversals: {retry_min: 0s, retry_max: soon}\n", []string{
			`t.yaml: reversals.retry_min: "0s": must be positive`,
			`t.yaml: reversals.retry_max: "soon": invalid duration`,
		}},
		{"acquirer problems", minimal + `
acquirers:
  - name: acq-1
    institution_id: "12345x"
    allow_cidrs: [10.0.0.0/8, 10.0.0.0/33, "10.1.2.3"]
    max_connections: -1
    max_in_flight: many
    rate: -2.5
    burst: -1
  - name: acq-1
    institution_id: 123456
    cert_subject: acq.example
  - institution_id: "123456789012"
  - name: acq-4
    institution_id: "123456"
    allow_cidrs: [127.0.0.0/8]
    rate: fast
  - name: acq-5
    institution_id: "654321"
    allow_cidrs: [127.0.0.0/8]
    cert_subject: acq.example
`, []string{
			`t.yaml: acquirers[0] (acq-1): institution_id "12345x": must be 1..11 digits`,
			`t.yaml: acquirers[0] (acq-1): allow_cidrs[1] "10.0.0.0/33": invalid CIDR, want e.g. 10.0.0.0/8`,
			`t.yaml: acquirers[0] (acq-1): allow_cidrs[2] "10.1.2.3": invalid CIDR, want e.g. 10.0.0.0/8`,
			`t.yaml: acquirers[0] (acq-1): max_connections "-1": must not be negative`,
			`t.yaml: acquirers[0] (acq-1): max_in_flight "many": not an integer`,
			`t.yaml: acquirers[0] (acq-1): rate "-2.5": must not be negative`,
			`t.yaml: acquirers[0] (acq-1): burst "-1": must not be negative`,
			`t.yaml: acquirers[1] (acq-1): duplicate name, first used by acquirers[0]`,
			`t.yaml: acquirers[1] (acq-1): institution_id must be quoted (institution_id: "123456") so that leading zeros are kept`,
			`t.yaml: acquirers[1] (acq-1): cert_subject needs listen.tls.client_ca_file (client certificates)`,
			`t.yaml: acquirers[2]: name is required`,
			`t.yaml: acquirers[2]: institution_id "123456789012": must be 1..11 digits`,
			`t.yaml: acquirers[2]: set allow_cidrs or cert_subject (or both) to identify it`,
			`t.yaml: acquirers[3] (acq-4): rate "fast": not a number`,
			`t.yaml: acquirers[3] (acq-4): duplicate institution_id, first used by acquirers[1]`,
			`t.yaml: acquirers[4] (acq-5): duplicate cert_subject, first used by acquirers[1]`,
			`t.yaml: acquirers[4] (acq-5): cert_subject needs listen.tls.client_ca_file (client certificates)`,
		}},
		{"acquirer without institution id", minimal + `
acquirers: [{name: acq-1, allow_cidrs: [127.0.0.1/32], colour: red}]
`, []string{
			`t.yaml: acquirers[0]: unknown key "colour"`,
			`t.yaml: acquirers[0] (acq-1): institution_id is required`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := strings.ReplaceAll(tt.yaml, "DIR", dir)
			_, err := LoadBytes("t.yaml", []byte(yaml))
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			lines := ve.Lines()
			for i := range lines {
				lines[i] = strings.ReplaceAll(lines[i], dir, "DIR")
			}
			assert.Equal(t, tt.want, lines)
		})
	}
}

func TestLoadBytesServiceDefaults(t *testing.T) {
	cfg, err := LoadBytes("min.yaml", []byte(minimal))
	require.NoError(t, err)
	listen, issuer := Defaults()
	assert.Equal(t, 5*time.Minute, listen.IdleTimeout)
	assert.Equal(t, 10*time.Second, listen.FrameTimeout)
	assert.Equal(t, 250*time.Millisecond, listen.CloseLinger)
	assert.Equal(t, 10000, listen.MaxConnections)
	assert.Equal(t, 1000, listen.MaxInFlight)
	assert.Nil(t, listen.TLS)
	assert.Equal(t, listen, cfg.Listen)
	assert.Nil(t, issuer.TLS)
	assert.Nil(t, cfg.Issuers[0].TLS)
	assert.Equal(t, Admin{}, cfg.Admin)
	assert.Equal(t, Journal{DuplicateWindow: 10 * time.Minute, Sync: "normal", IndexLagMax: time.Minute}, cfg.Journal)
	assert.Equal(t, Reversals{RetryMin: time.Second, RetryMax: time.Minute, Rate: 100}, cfg.Reversals)
	assert.EqualValues(t, 1<<30, cfg.MemoryLimit)
	assert.Zero(t, cfg.Listen.MaxInFlightTotal, "0: sized to the memory limit")
	assert.Zero(t, cfg.Issuers[0].MaxInFlight, "0: derived from the switch-wide cap")
	admin, journal, reversals := ServiceDefaults()
	assert.Equal(t, admin, cfg.Admin)
	assert.Equal(t, journal, cfg.Journal)
	assert.Equal(t, reversals, cfg.Reversals)
	assert.Empty(t, cfg.Acquirers)
}

func TestLoadDefaultServices(t *testing.T) {
	cfg, err := LoadDefault()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", cfg.Admin.Address)
	assert.Equal(t, Journal{Path: "cardswitch.db", DuplicateWindow: 10 * time.Minute, Sync: "normal", IndexLagMax: time.Minute}, cfg.Journal)
	_, _, reversals := ServiceDefaults()
	assert.Equal(t, reversals, cfg.Reversals)
	assert.Empty(t, cfg.Acquirers)
}

func TestLoadBytesServices(t *testing.T) {
	dir := pemFiles(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "token"), []byte("0123456789abcdef\n"), 0o600))
	yaml := strings.ReplaceAll(`
listen:
  idle_timeout: 0s
  frame_timeout: 3s
  max_connections: 50
  max_in_flight: 7
  tls: {cert_file: DIR/cert.pem, key_file: DIR/key.pem, client_ca_file: DIR/ca.pem}
issuers:
  - name: bank-a
    endpoints: [127.0.0.1:9101]
    tls: {ca_file: DIR/ca.pem, server_name: bank-a.example, cert_file: DIR/cert.pem, key_file: DIR/key.pem}
  - name: bank-b
    endpoints: [127.0.0.1:9102]
    tls: {}
routes:
  - {bin: "4", issuer: bank-a}
admin: {address: ":0", token_file: DIR/token}
journal: {path: DIR/j.db, duplicate_window: 30s, sync: full}
reversals: {retry_min: 500ms, retry_max: 500ms, rate: 2.5}
acquirers:
  - name: acq-1
    institution_id: "00123456"
    allow_cidrs: [127.0.0.0/8, "10.1.2.3/8", "::1/128"]
    max_connections: 2
    max_in_flight: 10
    rate: 2.5
  - name: acq-2
    institution_id: "7"
    cert_subject: acq-2.example
    burst: 9
`, "DIR", dir)
	cfg, err := LoadBytes("t.yaml", []byte(yaml))
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), cfg.Listen.IdleTimeout)
	assert.Equal(t, 3*time.Second, cfg.Listen.FrameTimeout)
	assert.Equal(t, 50, cfg.Listen.MaxConnections)
	assert.Equal(t, 7, cfg.Listen.MaxInFlight)
	assert.Equal(t, &ServerTLS{CertFile: dir + "/cert.pem", KeyFile: dir + "/key.pem", ClientCAFile: dir + "/ca.pem"}, cfg.Listen.TLS)
	assert.Equal(t, &ClientTLS{CAFile: dir + "/ca.pem", ServerName: "bank-a.example", CertFile: dir + "/cert.pem", KeyFile: dir + "/key.pem"}, cfg.Issuers[0].TLS)
	assert.Equal(t, &ClientTLS{}, cfg.Issuers[1].TLS, "tls: {} means TLS with system roots")
	assert.Equal(t, Admin{Address: ":0", TokenFile: dir + "/token", Token: "0123456789abcdef"}, cfg.Admin)
	assert.Equal(t, Journal{Path: dir + "/j.db", DuplicateWindow: 30 * time.Second, Sync: "full", IndexLagMax: time.Minute}, cfg.Journal)
	assert.Equal(t, Reversals{RetryMin: 500 * time.Millisecond, RetryMax: 500 * time.Millisecond, Rate: 2.5}, cfg.Reversals)
	assert.Equal(t, []Acquirer{{
		Name: "acq-1", InstitutionID: "00123456",
		AllowCIDRs:     []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")},
		MaxConnections: 2, MaxInFlight: 10, Rate: 2.5, Burst: 3,
	}, {
		Name: "acq-2", InstitutionID: "7", CertSubject: "acq-2.example", Burst: 9,
	}}, cfg.Acquirers)
}

func TestEnvOverridesServices(t *testing.T) {
	t.Setenv("CARDSWITCH_ADMIN_ADDRESS", "127.0.0.1:0")
	t.Setenv("CARDSWITCH_JOURNAL_PATH", "/tmp/x.db")
	t.Setenv("CARDSWITCH_LISTEN_IDLE_TIMEOUT", "1m")
	t.Setenv("CARDSWITCH_LISTEN_CLOSE_LINGER", "2s")
	cfg, err := LoadDefault()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:0", cfg.Admin.Address)
	assert.Equal(t, "/tmp/x.db", cfg.Journal.Path)
	assert.Equal(t, time.Minute, cfg.Listen.IdleTimeout)
	assert.Equal(t, 2*time.Second, cfg.Listen.CloseLinger)

	cfg, err = LoadBytes("min.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:0", cfg.Admin.Address, "env applies when the file leaves the key out")
	assert.Equal(t, "/tmp/x.db", cfg.Journal.Path)
}

func TestEnvOverrideAdminIsValidated(t *testing.T) {
	t.Setenv("CARDSWITCH_ADMIN_ADDRESS", "nope")
	_, err := LoadBytes("t.yaml", []byte(minimal))
	require.EqualError(t, err, `CARDSWITCH_ADMIN_ADDRESS (admin.address): "nope": must be host:port`)
}

func TestHashIsOfFileBytes(t *testing.T) {
	before := time.Now()
	a, err := LoadBytes("a.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Len(t, a.Hash, 64)
	assert.False(t, a.LoadedAt.Before(before))
	t.Setenv("CARDSWITCH_ADMIN_ADDRESS", "127.0.0.1:0")
	b, err := LoadBytes("b.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, a.Hash, b.Hash, "environment overrides do not change the hash")
	c, err := LoadBytes("c.yaml", []byte(minimal+"# a comment\n"))
	require.NoError(t, err)
	assert.NotEqual(t, a.Hash, c.Hash, "any byte changes the hash")
	assert.Equal(t, "09147739a9d1e9125f4afa50172192601a493e9dcac03aca7a8a22afd72a7f92", a.Hash, "hex sha256 of the bytes")
}

// The per-source caps: defaults, set values, and a left-out pending cap
// that follows a lower per-source cap.
func TestPerSourceCaps(t *testing.T) {
	for _, tt := range []struct {
		yaml              string
		perIP, perPending int
	}{
		{"", DefaultMaxConnectionsPerIP, DefaultMaxPendingPerIP},
		{"listen: {max_connections_per_ip: 100, max_pending_per_ip: 30}\n", 100, 30},
		{"listen: {max_connections_per_ip: 4}\n", 4, 4},
	} {
		cfg, err := LoadBytes("t.yaml", []byte(minimal+tt.yaml))
		require.NoError(t, err, tt.yaml)
		assert.Equal(t, tt.perIP, cfg.Listen.MaxConnectionsPerIP, tt.yaml)
		assert.Equal(t, tt.perPending, cfg.Listen.MaxPendingPerIP, tt.yaml)
	}
	t.Setenv("CARDSWITCH_LISTEN_MAX_PENDING_PER_IP", "3")
	cfg, err := LoadBytes("t.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.Listen.MaxPendingPerIP, "overridable from the environment")
}

// The overload limits: memory_limit in GOMEMLIMIT's units, the
// switch-wide cap sized to it unless set, the per-issuer cap half of it
// unless set (all of it for a lone issuer).
func TestOverloadLimits(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1GiB": 1 << 30, "768MiB": 768 << 20, "4096": 4096, "64KiB": 64 << 10, "2TiB": 2 << 40, "100B": 100} {
		cfg, err := LoadBytes("t.yaml", []byte(minimal+"memory_limit: "+in+"\n"))
		require.NoError(t, err, in)
		assert.Equal(t, want, cfg.MemoryLimit, in)
	}
	cfg, err := LoadBytes("t.yaml", []byte(`listen: {max_in_flight_total: 500}
issuers:
  - {name: a, endpoints: ["127.0.0.1:1"], max_in_flight: 30}
  - {name: b, endpoints: ["127.0.0.1:2"]}
routes: [{bin: "4", issuer: a}]
`))
	require.NoError(t, err)
	assert.Equal(t, 500, MaxInFlightTotalFor(cfg.Listen, 1<<30), "set: as set")
	assert.Equal(t, 30, MaxInFlightFor(cfg.Issuers[0], 2, 500))
	assert.Equal(t, 250, MaxInFlightFor(cfg.Issuers[1], 2, 500), "half the switch-wide cap")
	assert.Equal(t, 500, MaxInFlightFor(cfg.Issuers[1], 1, 500), "a lone issuer: all of it")
	assert.Equal(t, 131072, MaxInFlightTotalFor(Listen{}, 1<<30))
	assert.Equal(t, MinInFlightTotal, MaxInFlightTotalFor(Listen{}, 1<<20))
	assert.Equal(t, MaxInFlightTotal, MaxInFlightTotalFor(Listen{}, math.MaxInt64), "no limit: the ceiling")
	t.Setenv("CARDSWITCH_MEMORY_LIMIT", "256MiB")
	t.Setenv("CARDSWITCH_REVERSALS_RATE", "12")
	t.Setenv("CARDSWITCH_LISTEN_MAX_IN_FLIGHT_TOTAL", "77")
	cfg, err = LoadBytes("t.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.EqualValues(t, 256<<20, cfg.MemoryLimit)
	assert.Equal(t, 12.0, cfg.Reversals.Rate)
	assert.Equal(t, 77, cfg.Listen.MaxInFlightTotal)
}

// journal.key_file: a file that is not in the key format is a config
// error naming the file, the line and the rule; the env variable sets it.
func TestJournalKeyFileValidated(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	require.NoError(t, os.WriteFile(good, []byte("# rotated 2026-12\n"+strings.Repeat("ab", 32)+"\n"+
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"), 0o600))
	bad := filepath.Join(dir, "bad.key")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Repeat("ab", 32)+"\nnot-a-key\n"), 0o600))
	cfg, err := LoadBytes("t.yaml", []byte(minimal+"journal: {path: j.db, key_file: "+good+"}\n"))
	require.NoError(t, err)
	assert.Equal(t, good, cfg.Journal.KeyFile)

	_, err = LoadBytes("t.yaml", []byte(minimal+"journal: {path: j.db, key_file: "+bad+"}\n"))
	require.EqualError(t, err, `t.yaml: journal.key_file: "`+bad+`": line 2: `+keyfile.Rule)
	_, err = LoadBytes("t.yaml", []byte(minimal+"journal: {path: j.db, key_file: "+dir+"/none.key}\n"))
	require.EqualError(t, err, `t.yaml: journal.key_file: "`+dir+`/none.key": no such file`)

	t.Setenv("CARDSWITCH_JOURNAL_KEY_FILE", good)
	cfg, err = LoadBytes("t.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.Equal(t, good, cfg.Journal.KeyFile)
}
