package main

import (
	"fmt"
	"strings"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
)

// configFlagUsage is the help of the tools' --config flag.
const configFlagUsage = "a switch config file whose dialects: --dialect may also name (validated as serve would)"

// lookupDialect resolves --dialect for a tool: a built-in, or with
// --config FILE also one of FILE's user-defined dialects (its spec read
// relative to FILE, as serve reads it). "" is iso87ascii.
func lookupDialect(name, configPath string) (iso.Dialect, error) {
	if configPath == "" {
		return dialectio.Lookup(name)
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return iso.Dialect{}, fmt.Errorf("--config: %w", err)
	}
	d, ok := cfg.LookupDialect(name)
	if !ok {
		return iso.Dialect{}, fmt.Errorf("unknown dialect %q (known: %s; and in %s: %s)", name, dialectio.Known(),
			configPath, userDialectNames(cfg))
	}
	return d, nil
}

// userDialectNames lists cfg's user-defined dialects for errors.
func userDialectNames(cfg *config.Config) string {
	if len(cfg.Dialects) == 0 {
		return "none"
	}
	names := make([]string, len(cfg.Dialects))
	for i, d := range cfg.Dialects {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}
