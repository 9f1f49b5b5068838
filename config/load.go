package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// EnvPrefix prefixes the environment variables that override config keys:
// the key, upper-cased, with dots as underscores, e.g.
// CARDSWITCH_LISTEN_ADDRESS or CARDSWITCH_JOURNAL_PATH. Only the keys in
// envKeys can be overridden; an empty variable is ignored.
const EnvPrefix = "CARDSWITCH"

// envKeys are the scalar keys environment variables may override.
var envKeys = []string{
	"listen.address", "listen.max_message_size", "listen.shutdown_timeout", "listen.close_linger",
	"listen.idle_timeout", "listen.frame_timeout", "listen.max_connections", "listen.max_in_flight",
	"listen.max_connections_per_ip", "listen.max_pending_per_ip", "listen.dialect",
	"default_issuer",
	"admin.address", "admin.token_file",
	"journal.path", "journal.duplicate_window", "journal.retention", "journal.sync", "journal.index_lag_max", "journal.key_file",
	"journal.postgres", "journal.spool", "cluster.node", "cluster.lease",
	"reversals.retry_min", "reversals.retry_max", "reversals.rate",
	"listen.max_in_flight_total", "memory_limit",
}

// Load reads the YAML config at path, applies environment overrides,
// decodes and validates it. Invalid configs yield a *ValidationError.
// Relative file paths in the file (TLS files, admin.token_file,
// journal.path, journal.key_file, journal.spool) are taken from the file's folder; those
// set by environment variables from the working directory.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return load(path, filepath.Dir(path), data)
}

// LoadDefault loads the embedded default config (DefaultYAML), with
// environment overrides.
func LoadDefault() (*Config, error) { return LoadBytes(DefaultSource, DefaultYAML) }

// LoadBytes is Load for a config already in memory; name is used as
// Config.Source and in error messages. It has no folder: relative file
// paths are taken from the working directory.
func LoadBytes(name string, yaml []byte) (*Config, error) { return load(name, "", yaml) }

// load is LoadBytes with relative paths resolved against dir, unless "".
func load(name, dir string, yaml []byte) (*Config, error) {
	rest, routes, fast := splitRoutes(yaml)
	if !fast {
		rest = yaml
	}
	v := newViper()
	if err := v.ReadConfig(bytes.NewReader(rest)); err != nil {
		return nil, &ValidationError{Source: name, Problems: yamlProblems(err)}
	}
	var raw rawConfig
	var decoded []Problem
	if err := v.UnmarshalExact(&raw); err != nil {
		decoded = decodeProblems(err)
		// Unknown keys leave the rest decoded, so validating it too reports
		// everything at once. After a type error the value is missing and
		// validating would add misleading follow-up problems.
		if !onlyUnknownKeys(decoded) {
			return nil, &ValidationError{Source: name, Problems: decoded}
		}
	}
	markTLS(v, &raw)
	if dir != "" {
		resolvePaths(&raw, dir)
	}
	raw.FastRoutes, raw.HasFastRoutes = routes, fast
	c, problems := build(name, &raw)
	if problems = append(decoded, problems...); len(problems) > 0 {
		blameEnv(problems)
		return nil, &ValidationError{Source: name, Problems: problems}
	}
	c.Hash, c.LoadedAt = hashOf(yaml), time.Now()
	return c, nil
}

// newViper returns a viper that reads YAML and lets CARDSWITCH_* variables
// override the scalar keys. AutomaticEnv only consults keys viper already
// knows, hence a default for exactly those keys: "", which validation
// replaces by the real default, except for listen.address, where an
// explicit "" is an error rather than the default.
func newViper() *viper.Viper {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for _, key := range envKeys {
		v.SetDefault(key, "")
	}
	v.SetDefault("listen.address", DefaultListenAddress)
	return v
}

// hashOf is Config.Hash: of the bytes as read, so the environment does not
// change it.
func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// yamlProblems trims viper's and the YAML parser's prefixes, keeping the
// line numbers the parser reports; a parser error listing several lines
// ("unmarshal errors:") becomes one problem per line.
func yamlProblems(err error) []Problem {
	msg := err.Error()
	for _, prefix := range []string{"While parsing config: ", "yaml: "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	var problems []Problem
	for _, line := range strings.Split(strings.TrimPrefix(msg, "unmarshal errors:\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			problems = append(problems, Problem{Msg: "invalid YAML: " + line})
		}
	}
	return problems
}

// markTLS sets the HasTLS flags from the settings as read: a tls key whose
// value is a mapping, even an empty one, turns TLS on.
func markTLS(v *viper.Viper, raw *rawConfig) {
	_, raw.Listen.HasTLS = v.Get("listen.tls").(map[string]any)
	issuers, _ := v.Get("issuers").([]any)
	for i := range min(len(issuers), len(raw.Issuers)) {
		if m, ok := issuers[i].(map[string]any); ok {
			_, raw.Issuers[i].HasTLS = m["tls"].(map[string]any)
		}
	}
	listeners, _ := v.Get("listeners").([]any)
	for i := range min(len(listeners), len(raw.Listeners)) {
		if m, ok := listeners[i].(map[string]any); ok {
			_, raw.Listeners[i].HasTLS = m["tls"].(map[string]any)
		}
	}
}
