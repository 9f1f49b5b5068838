package config

import _ "embed"

// DefaultYAML is the embedded default configuration (config/default.yaml),
// printed by `cardswitch config default`.
//
//go:embed default.yaml
var DefaultYAML []byte

// DefaultSource is Config.Source for the embedded default.
const DefaultSource = "embedded default"
