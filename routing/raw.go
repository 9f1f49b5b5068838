package routing

// The raw* types mirror the YAML file. Durations and integers are decoded
// as strings and parsed during validation, so a bad value is reported with
// the key and rule it belongs to instead of a decoder message.

type rawConfig struct {
	Listen        rawListen      `mapstructure:"listen"`
	Issuers       []rawIssuer    `mapstructure:"issuers"`
	Routes        []rawRoute     `mapstructure:"routes"`
	DefaultIssuer string         `mapstructure:"default_issuer"`
	Simulators    []rawSimulator `mapstructure:"simulators"`
}

type rawListen struct {
	Address         string `mapstructure:"address"`
	MaxMessageSize  string `mapstructure:"max_message_size"`
	ShutdownTimeout string `mapstructure:"shutdown_timeout"`
}

type rawIssuer struct {
	Name           string   `mapstructure:"name"`
	Endpoints      []string `mapstructure:"endpoints"`
	Timeout        string   `mapstructure:"timeout"`
	EchoInterval   string   `mapstructure:"echo_interval"`
	ConnectTimeout string   `mapstructure:"connect_timeout"`
	ReconnectMin   string   `mapstructure:"reconnect_min"`
	ReconnectMax   string   `mapstructure:"reconnect_max"`
}

type rawRoute struct {
	// BIN is any so that an unquoted bin, which YAML reads as a number and
	// strips of leading zeros, can be rejected rather than misrouted.
	BIN    any    `mapstructure:"bin"`
	Issuer string `mapstructure:"issuer"`
}

type rawSimulator struct {
	Name               string       `mapstructure:"name"`
	Listen             string       `mapstructure:"listen"`
	DeclineAbove       string       `mapstructure:"decline_above"`
	Latency            string       `mapstructure:"latency"`
	ApprovalCodePrefix string       `mapstructure:"approval_code_prefix"`
	Rules              []rawSimRule `mapstructure:"rules"`
}

type rawSimRule struct {
	PANPrefix string `mapstructure:"pan_prefix"`
	PANSuffix string `mapstructure:"pan_suffix"`
	Amount    string `mapstructure:"amount"`
	Code      string `mapstructure:"code"`
	Delay     string `mapstructure:"delay"`
	NoAnswer  bool   `mapstructure:"no_answer"`
	Malformed bool   `mapstructure:"malformed"`
}
