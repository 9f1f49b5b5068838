package config

import (
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/routing"
)

// Config is a validated cardswitch configuration. Obtain it from Load,
// LoadBytes or LoadDefault; a Config built by hand has no Table.
type Config struct {
	// Source is the file path the config was read from, or "embedded default".
	Source string
	// Listen is the acquirer-facing listener.
	Listen Listen
	// Listeners are extra acquirer listeners, each with its own dialect.
	// Default: none. Restart-only.
	Listeners []Listener
	// Dialects are the user-defined dialects. Default: none. Restart-only.
	Dialects []Dialect
	// Issuers are the issuer hosts; routes refer to them by Name.
	Issuers []Issuer
	// Routes map BIN prefixes or ranges to issuers (longest match wins).
	Routes []Route
	// DefaultIssuer receives PANs no route matches. Default "": such PANs are
	// declined (response code 15, no such issuer).
	DefaultIssuer string
	// Simulators are issuer simulators started inside `cardswitch serve`
	// (demo and tests). Default: none.
	Simulators []Simulator
	// Admin is the admin HTTP server.
	Admin Admin
	// Journal is the transaction journal (SQLite or PostgreSQL).
	Journal Journal
	// Reversals controls the retries of unacknowledged 0420s.
	Reversals Reversals
	// Cluster names this node among those sharing a PostgreSQL journal.
	Cluster Cluster
	// Acquirers are the acquirers allowed to connect. Default: none, which
	// lets anyone connect.
	Acquirers []Acquirer
	// MemoryLimit is the process's soft memory limit in bytes (as
	// GOMEMLIMIT, which wins when set), applied at start: near it the
	// garbage collector works harder and returns memory to the OS, so RSS
	// comes back down after a spike. It also sizes the default of
	// Listen.MaxInFlightTotal. Default 1 GiB (DefaultMemoryLimit); 0: no
	// limit. Applies at restart.
	MemoryLimit int64

	// Hash is the hex SHA-256 of the exact bytes read, before environment
	// overrides are applied: two loads of an unchanged file have the same
	// Hash even if the environment differs, so reload can skip the file.
	Hash string
	// LoadedAt is when the config was loaded.
	LoadedAt time.Time

	table    *routing.Table
	dialects map[string]iso.Dialect // Dialects, loaded
}

// Listen configures the acquirer listener.
type Listen struct {
	// Address is the host:port acquirers connect to. Default "127.0.0.1:8583".
	Address string
	// MaxMessageSize is the largest accepted message in bytes; a length header
	// above it closes the connection. Default 8192; allowed 64..65535.
	MaxMessageSize int
	// ShutdownTimeout is how long SIGTERM waits for in-flight requests.
	// Default 10s; 0 means do not wait.
	ShutdownTimeout time.Duration
	// CloseLinger is how long, at shutdown, acquirer connections stay open
	// after the requests in flight are answered, answering 91 to whatever
	// arrives, before the switch closes them: an acquirer gets every answer
	// before it sees the close, and what it sent meanwhile is answered
	// rather than dropped. A connection its acquirer closes ends sooner.
	// Default 250ms; 0 closes at once.
	CloseLinger time.Duration
	// IdleTimeout closes an acquirer connection that sent nothing for this
	// long. Default 5m; 0 disables.
	IdleTimeout time.Duration
	// FrameTimeout bounds how long a frame whose first byte arrived may take
	// to complete (slow-loris defence). Default 10s; 0 disables.
	FrameTimeout time.Duration
	// MaxConnections caps open acquirer connections; connections past it are
	// closed at once. Default 10000; must be > 0.
	MaxConnections int
	// MaxInFlight caps, per connection, the requests waiting for an issuer;
	// a request past it is declined at once. Default 1000; must be > 0.
	MaxInFlight int
	// MaxConnectionsPerIP caps the open acquirer connections from one
	// source address (an IPv6 source counts by its /64); connections past
	// it are closed at once. Default 64; must be > 0.
	MaxConnectionsPerIP int
	// MaxPendingPerIP caps, per source address (IPv6: /64), the
	// connections that have not yet completed their first frame (a TLS
	// connection counts from accept, through its handshake, to its first
	// frame); connections past it are closed at once. Default 16; must be
	// > 0 and at most MaxConnectionsPerIP.
	MaxPendingPerIP int
	// MaxInFlightTotal caps the requests waiting for an issuer across the
	// whole switch; a request past it is answered 91 at once. Default 0:
	// sized to the memory limit (MaxInFlightTotalFor).
	MaxInFlightTotal int
	// TLS, when set, makes the listener speak TLS. Default nil: plain TCP.
	TLS *ServerTLS
	// Dialect is how acquirers on Address speak: a built-in dialect or
	// one of Dialects. Default iso87ascii. Restart-only.
	Dialect string
}

// Issuer is one issuer host reached over persistent links.
type Issuer struct {
	// Name identifies the issuer in routes and logs. Required, unique.
	Name string
	// Endpoints are host:port addresses; the switch keeps Connections
	// persistent connections to each. At least one is required.
	Endpoints []string
	// Connections is how many persistent connections (links) the switch
	// keeps to each endpoint, each signed on and echoed on its own;
	// requests are spread over every live one. Default 1; 1..MaxConnections.
	Connections int
	// Timeout is how long to wait for the issuer's response. Default 5s; must be > 0.
	Timeout time.Duration
	// EchoInterval is how often an idle link sends an 0800 echo (field 70 = 301).
	// Default 30s; 0 disables echoes.
	EchoInterval time.Duration
	// ConnectTimeout bounds dial plus sign-on. Default 2s; must be > 0.
	ConnectTimeout time.Duration
	// ReconnectMin is the first backoff after a link failure, doubling on each
	// further failure. Default 100ms; must be > 0.
	ReconnectMin time.Duration
	// ReconnectMax caps the backoff. Default 5s; must be >= ReconnectMin.
	ReconnectMax time.Duration
	// TLS, when set, makes the links to this issuer use TLS. Default nil:
	// plain TCP.
	TLS *ClientTLS
	// MaxInFlight caps the requests waiting for this issuer, across its
	// links; a request past it is answered 91 at once, so that an issuer
	// that stops answering cannot take the switch-wide cap from the others.
	// Default 0: half of the switch-wide cap (all of it when only one
	// issuer is configured); see MaxInFlightFor.
	MaxInFlight int
	// Dialect is how the issuer speaks: a built-in dialect or one of
	// Dialects. Default iso87ascii. A reload that changes it replaces the
	// issuer's links (as a changed endpoint does).
	Dialect string
	// OfflineAfter is how many consecutive timeouts take the issuer
	// offline ("signed off by the switch"): its requests are then decided
	// at once (stand-in, or 91) instead of each waiting out the timeout.
	// Its links keep echoing; the first 0810 or answer brings it back.
	// Default 0: never. Reloadable.
	OfflineAfter int
	// StandIn is what the switch decides on the issuer's behalf when it
	// is unreachable, offline or late. Default: disabled (91 as without).
	StandIn StandIn
}

// StandIn holds an issuer's stand-in limits (README "Stand-in").
type StandIn struct {
	// Enabled turns stand-in on. Default false.
	Enabled bool
	// MaxAmount is the largest amount (field 4, minor units) approved per
	// transaction. Required (> 0) when Enabled.
	MaxAmount int64
	// MaxCount is the most approvals per card within Window. Default 0:
	// no count limit.
	MaxCount int
	// MaxTotal is the most approved amount per card within Window (minor
	// units). Default 0: no total limit.
	MaxTotal int64
	// Window is the sliding window of MaxCount and MaxTotal. Default 24h.
	Window time.Duration
	// BlockProcessing are transaction types (the first two digits of
	// field 3) never stood in for (57). Default none.
	BlockProcessing []string
	// BlockMCC are merchant categories (field 18) never stood in for
	// (57). Default none.
	BlockMCC []string
	// AdviceTTL is how long an advice may stay undelivered before it
	// moves to the exception list. Default 72h.
	AdviceTTL time.Duration
	// AdviceRate is the most stand-in advices per second sent to the
	// issuer (first tries and repeats). Default 10.
	AdviceRate float64
}

// Route sends PANs matching BIN to Issuer. It is the BIN table's own rule
// type, so that a table of 500,000 routes is built from the list as read,
// without a copy; routing.Route documents the bin syntax.
type Route = routing.Route

// Simulator is an issuer simulator run inside the switch process.
type Simulator struct {
	// Name labels the simulator in logs. Optional, default "".
	Name string
	// Listen is the host:port the simulator accepts issuer links on. Required, unique.
	Listen string
	// DeclineAbove is the amount (minor units, field 4) above which the answer
	// is 51 (insufficient funds). Default 0 = never.
	DeclineAbove int64
	// Latency is added to every answer. Default 0.
	Latency time.Duration
	// ApprovalCodePrefix prefixes generated approval codes (field 38). Default "".
	ApprovalCodePrefix string
	// ReversalDrop is how many attempts of each distinct reversal (0400/0420,
	// told apart by field 90, else by STAN and RRN) go unanswered before
	// the next one is answered 00: it exercises the switch's reversal
	// retries. Default 0 = answer every reversal.
	ReversalDrop int
	// Rules are checked in order; the first match wins. Default: none.
	Rules []SimRule
	// Dialect is the built-in ISO 8583 dialect the simulator reads and
	// answers in (see `cardswitch dialects`). Default "" = iso87ascii.
	Dialect string
	// DownAfter takes the simulator down once it has answered this many
	// authorizations (0100/0200): the next one is left unanswered and its
	// links close, as when an issuer host goes away, until it is brought
	// up (admin POST /admin/simulators/{name}/up, or SIGUSR2 to
	// `cardswitch issuer-sim`). It fires once per process, so that a
	// scripted tour can show stand-in and then advice delivery. Default 0
	// = never.
	DownAfter int
}

// SimRule changes a simulator's answer for matching requests. All the match
// criteria given (PANPrefix, PANSuffix, Amount) must match.
type SimRule struct {
	// PANPrefix matches PANs starting with these digits. Default "" = any.
	PANPrefix string
	// PANSuffix matches PANs ending with these digits. Default "" = any.
	PANSuffix string
	// Amount matches this exact amount (minor units). Default 0 = any.
	Amount int64
	// Code is the response code (field 39) to answer, 2 alphanumerics.
	// Default "" = the simulator's normal answer.
	Code string
	// Delay is added before answering. Default 0.
	Delay time.Duration
	// NoAnswer: never answer the request. Default false.
	NoAnswer bool
	// Malformed: answer with an unparseable frame. Default false.
	Malformed bool
}

// IssuerIndex returns the index of the issuer called name in c.Issuers, or -1.
func (c *Config) IssuerIndex(name string) int {
	for i := range c.Issuers {
		if c.Issuers[i].Name == name {
			return i
		}
	}
	return -1
}

// Table returns the BIN table built during validation. It is never nil on a
// Config returned by Load, LoadBytes or LoadDefault.
func (c *Config) Table() *routing.Table { return c.table }

// IssuerNames returns the issuer names in index order, as NewTable expects them.
func (c *Config) IssuerNames() []string {
	names := make([]string, len(c.Issuers))
	for i := range c.Issuers {
		names[i] = c.Issuers[i].Name
	}
	return names
}
