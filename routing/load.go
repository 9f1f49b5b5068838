package routing

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/viper"
)

// EnvPrefix prefixes the environment variables that override config keys:
// CARDSWITCH_LISTEN_ADDRESS, CARDSWITCH_LISTEN_MAX_MESSAGE_SIZE,
// CARDSWITCH_LISTEN_SHUTDOWN_TIMEOUT, CARDSWITCH_DEFAULT_ISSUER.
const EnvPrefix = "CARDSWITCH"

// Load reads the YAML config at path, applies environment overrides,
// decodes and validates it. Invalid configs yield a *ValidationError.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return LoadBytes(path, data)
}

// LoadDefault loads the embedded default config (DefaultYAML), with
// environment overrides.
func LoadDefault() (*Config, error) { return LoadBytes(DefaultSource, DefaultYAML) }

// LoadBytes is Load for a config already in memory; name is used as
// Config.Source and in error messages.
func LoadBytes(name string, yaml []byte) (*Config, error) {
	v := newViper()
	if err := v.ReadConfig(bytes.NewReader(yaml)); err != nil {
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
	c, problems := build(name, &raw)
	if problems = append(decoded, problems...); len(problems) > 0 {
		return nil, &ValidationError{Source: name, Problems: problems}
	}
	return c, nil
}

// newViper returns a viper that reads YAML and lets CARDSWITCH_* variables
// override the scalar keys. AutomaticEnv only consults keys viper already
// knows, hence the defaults for exactly those keys.
func newViper() *viper.Viper {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	listen, _ := Defaults()
	v.SetDefault("listen.address", listen.Address)
	v.SetDefault("listen.max_message_size", listen.MaxMessageSize)
	v.SetDefault("listen.shutdown_timeout", listen.ShutdownTimeout.String())
	v.SetDefault("default_issuer", "")
	return v
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
