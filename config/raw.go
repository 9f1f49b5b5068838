package config

// The raw* types mirror the YAML file. Durations and integers are decoded
// as strings and parsed during validation, so a bad value is reported with
// the key and rule it belongs to instead of a decoder message.

type rawConfig struct {
	Listen        rawListen      `mapstructure:"listen"`
	Issuers       []rawIssuer    `mapstructure:"issuers"`
	Routes        []rawRoute     `mapstructure:"routes"`
	DefaultIssuer string         `mapstructure:"default_issuer"`
	Simulators    []rawSimulator `mapstructure:"simulators"`
	Admin         rawAdmin       `mapstructure:"admin"`
	Journal       rawJournal     `mapstructure:"journal"`
	Reversals     rawReversals   `mapstructure:"reversals"`
	Cluster       rawCluster     `mapstructure:"cluster"`
	Acquirers     []rawAcquirer  `mapstructure:"acquirers"`
	MemoryLimit   string         `mapstructure:"memory_limit"`
	Listeners     []rawListener  `mapstructure:"listeners"`
	Dialects      []rawDialect   `mapstructure:"dialects"`
	// FastRoutes, when HasFastRoutes, are the routes read by splitRoutes
	// instead of the decoder; Routes is then empty.
	FastRoutes    []Route `mapstructure:"-"`
	HasFastRoutes bool    `mapstructure:"-"`
}

type rawListen struct {
	Address          string       `mapstructure:"address"`
	MaxMessageSize   string       `mapstructure:"max_message_size"`
	ShutdownTimeout  string       `mapstructure:"shutdown_timeout"`
	CloseLinger      string       `mapstructure:"close_linger"`
	IdleTimeout      string       `mapstructure:"idle_timeout"`
	FrameTimeout     string       `mapstructure:"frame_timeout"`
	MaxConnections   string       `mapstructure:"max_connections"`
	MaxInFlight      string       `mapstructure:"max_in_flight"`
	MaxInFlightTotal string       `mapstructure:"max_in_flight_total"`
	MaxConnsPerIP    string       `mapstructure:"max_connections_per_ip"`
	MaxPendingPerIP  string       `mapstructure:"max_pending_per_ip"`
	Dialect          string       `mapstructure:"dialect"`
	TLS              rawServerTLS `mapstructure:"tls"`
	// HasTLS tells an absent tls section (plain TCP) from an empty one
	// (which lacks its required files). The decoder cannot: it drops empty
	// maps, and a pointer stays nil when the section has an unknown key.
	HasTLS bool `mapstructure:"-"`
}

type rawServerTLS struct {
	CertFile     string `mapstructure:"cert_file"`
	KeyFile      string `mapstructure:"key_file"`
	ClientCAFile string `mapstructure:"client_ca_file"`
}

type rawClientTLS struct {
	CAFile     string `mapstructure:"ca_file"`
	ServerName string `mapstructure:"server_name"`
	CertFile   string `mapstructure:"cert_file"`
	KeyFile    string `mapstructure:"key_file"`
}

type rawAdmin struct {
	Address   string   `mapstructure:"address"`
	TokenFile string   `mapstructure:"token_file"`
	Hosts     []string `mapstructure:"hosts"`
}

type rawJournal struct {
	Path            string `mapstructure:"path"`
	DuplicateWindow string `mapstructure:"duplicate_window"`
	Retention       string `mapstructure:"retention"`
	Sync            string `mapstructure:"sync"`
	IndexLagMax     string `mapstructure:"index_lag_max"`
	KeyFile         string `mapstructure:"key_file"`
	Postgres        string `mapstructure:"postgres"`
	Spool           string `mapstructure:"spool"`
}

type rawCluster struct {
	Node  string `mapstructure:"node"`
	Lease string `mapstructure:"lease"`
}

type rawReversals struct {
	RetryMin string `mapstructure:"retry_min"`
	RetryMax string `mapstructure:"retry_max"`
	Rate     string `mapstructure:"rate"`
}

type rawAcquirer struct {
	Name string `mapstructure:"name"`
	// InstitutionID is any for the same reason as rawRoute.BIN.
	InstitutionID  any      `mapstructure:"institution_id"`
	AllowCIDRs     []string `mapstructure:"allow_cidrs"`
	CertSubject    string   `mapstructure:"cert_subject"`
	MaxConnections string   `mapstructure:"max_connections"`
	MaxInFlight    string   `mapstructure:"max_in_flight"`
	Rate           string   `mapstructure:"rate"`
	Burst          string   `mapstructure:"burst"`
}

type rawIssuer struct {
	Name           string       `mapstructure:"name"`
	Endpoints      []string     `mapstructure:"endpoints"`
	Connections    string       `mapstructure:"connections"`
	Timeout        string       `mapstructure:"timeout"`
	EchoInterval   string       `mapstructure:"echo_interval"`
	ConnectTimeout string       `mapstructure:"connect_timeout"`
	ReconnectMin   string       `mapstructure:"reconnect_min"`
	ReconnectMax   string       `mapstructure:"reconnect_max"`
	MaxInFlight    string       `mapstructure:"max_in_flight"`
	Dialect        string       `mapstructure:"dialect"`
	OfflineAfter   string       `mapstructure:"offline_after"`
	StandIn        rawStandIn   `mapstructure:"stand_in"`
	TLS            rawClientTLS `mapstructure:"tls"`
	HasTLS         bool         `mapstructure:"-"` // as rawListen.HasTLS
}

type rawStandIn struct {
	Enabled         bool     `mapstructure:"enabled"`
	MaxAmount       string   `mapstructure:"max_amount"`
	MaxCount        string   `mapstructure:"max_count"`
	MaxTotal        string   `mapstructure:"max_total"`
	Window          string   `mapstructure:"window"`
	BlockProcessing []string `mapstructure:"block_processing"`
	BlockMCC        []string `mapstructure:"block_mcc"`
	AdviceTTL       string   `mapstructure:"advice_ttl"`
	AdviceRate      string   `mapstructure:"advice_rate"`
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
	ReversalDrop       string       `mapstructure:"reversal_drop"`
	Rules              []rawSimRule `mapstructure:"rules"`
	Dialect            string       `mapstructure:"dialect"`
	DownAfter          string       `mapstructure:"down_after"`
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

type rawListener struct {
	Name    string       `mapstructure:"name"`
	Address string       `mapstructure:"address"`
	Dialect string       `mapstructure:"dialect"`
	TLS     rawServerTLS `mapstructure:"tls"`
	HasTLS  bool         `mapstructure:"-"` // as rawListen.HasTLS
}

type rawDialect struct {
	Name string `mapstructure:"name"`
	Spec string `mapstructure:"spec"`
	// Version is any: YAML reads an unquoted 1987 as a number.
	Version any    `mapstructure:"version"`
	Length  string `mapstructure:"length"`
	Header  string `mapstructure:"header"`
}
