package config

import (
	"math"
	"time"
)

// Defaults are the values used for keys a config file leaves out. They are
// kept here, and only here; the field comments on Config repeat them.
const (
	DefaultListenAddress   = "127.0.0.1:8583"
	DefaultMaxMessageSize  = 8192
	DefaultShutdownTimeout = 10 * time.Second
	DefaultCloseLinger     = 250 * time.Millisecond
	DefaultIdleTimeout     = 5 * time.Minute
	DefaultFrameTimeout    = 10 * time.Second
	DefaultMaxConnections  = 10000
	DefaultMaxInFlight     = 1000
	// DefaultMaxConnectionsPerIP and DefaultMaxPendingPerIP bound what one
	// source address can hold: connections that never send a frame must
	// not fill listen.max_connections.
	DefaultMaxConnectionsPerIP = 64
	DefaultMaxPendingPerIP     = 16
	// DefaultDialect is listen.dialect, listeners[].dialect and
	// issuers[].dialect when left out: today's wire format (ISO 8583:1987
	// ASCII behind a 2-byte binary length).
	DefaultDialect = "iso87ascii"
	// DefaultDialectLength is dialects[].length when left out.
	DefaultDialectLength = "binary2"

	DefaultIssuerTimeout  = 5 * time.Second
	DefaultEchoInterval   = 30 * time.Second
	DefaultConnectTimeout = 2 * time.Second
	DefaultReconnectMin   = 100 * time.Millisecond
	DefaultReconnectMax   = 5 * time.Second
	// DefaultConnections is one link per issuer endpoint; MaxConnections
	// bounds issuers[].connections (each link is a socket, two goroutines
	// and a sign-on at the issuer).
	DefaultConnections = 1
	MaxConnections     = 64

	// DefaultAdminAddress and DefaultJournalPath are "": a config that
	// leaves the keys out runs without admin server and journal, so old
	// configs and tests neither bind a fixed port nor write a file.
	DefaultAdminAddress    = ""
	DefaultJournalPath     = ""
	DefaultDuplicateWindow = 10 * time.Minute
	DefaultJournalSync     = "normal"
	// DefaultIndexLagMax is journal.index_lag_max: how far the journal's
	// index may lag its log before the switch warns (it keeps answering).
	DefaultIndexLagMax = time.Minute
	// DefaultClusterLease is cluster.lease.
	DefaultClusterLease = 15 * time.Second

	// DefaultAdminTokenFile is "": no admin token, which only a loopback
	// admin.address allows.
	DefaultAdminTokenFile = ""
	// MinAdminTokenLen is the shortest admin token accepted: 16 characters
	// of a random token leave no room for guessing over the network.
	MinAdminTokenLen = 16

	DefaultRetryMin = time.Second
	DefaultRetryMax = time.Minute
	// DefaultReversalRate (per issuer per second) drains a storm of 10,000
	// reversals in under two minutes while taking at most about 1% of a
	// 10,000 tx/s issuer's capacity.
	DefaultReversalRate = 100

	// DefaultStandInWindow is the window of the per-card stand-in limits:
	// a day, as the schemes' stand-in velocity limits.
	DefaultStandInWindow = 24 * time.Hour
	// DefaultAdviceTTL keeps an undelivered stand-in advice owed for three
	// days (a long weekend's outage) before it goes to the exception list.
	DefaultAdviceTTL = 72 * time.Hour
	// DefaultAdviceRate (per issuer per second) sends 36,000 advices an
	// hour to a recovering host: a backlog drains without flooding it.
	DefaultAdviceRate = 10

	// DefaultMemoryLimit is the soft memory limit: the same on every host
	// (a config means the same thing everywhere, and validation does not
	// depend on the machine), about ten times what the switch needs at
	// 10,000 connections and full speed. A host or container with less
	// sets memory_limit (or GOMEMLIMIT) to about 90% of what it has.
	DefaultMemoryLimit = 1 << 30
	// InFlightCost is the memory budgeted per request in flight when the
	// switch-wide cap is sized to the memory limit: the request's own
	// ~2 KiB (its Txn with the frame, link table entries, answer and
	// journal buffers) plus as much again for the garbage collector's
	// headroom, times two so that half the limit stays for connections,
	// the journal and everything else.
	InFlightCost = 8 << 10
	// MinInFlightTotal and MaxInFlightTotal bound the sized default.
	MinInFlightTotal = 1000
	MaxInFlightTotal = 1_000_000

	// MinMessageSize and MaxMessageSize bound listen.max_message_size: the
	// two-byte length header cannot express more than 65535.
	MinMessageSize = 64
	MaxMessageSize = 65535
)

// The defaults of keys not in the block above are their zero values:
// default_issuer "" (PANs no route matches are declined 15),
// listen.max_in_flight_total 0 (sized to memory_limit, MaxInFlightTotalFor),
// listen.tls and issuers[].tls absent (plain TCP), issuers[].max_in_flight 0
// (half the switch-wide cap, MaxInFlightFor), issuers[].offline_after 0
// (never offline), issuers[].stand_in disabled with no count, total,
// processing code or MCC limit, admin.hosts none,
// journal.retention 0 (kept forever), journal.key_file "" (<path>.key), journal.spool ""
// (cardswitch-<cluster.node>.spool),
// no simulators, no acquirers (anyone may connect), every simulators[] key
// and rule key 0 or "" (see Simulator), and every acquirers[] limit 0
// (unlimited) except burst (DefaultBurst); no listeners (listen.address
// only), no dialects (the built-ins only), dialects[].header "".

// defaults is every default in one value, as moov-io iso8583-connection's
// GetDefaultOptions: c holds the sections' defaults, issuer those of each
// issuers entry. Validation takes its defaults from here; Defaults and
// ServiceDefaults hand out parts of it.
func defaults() (c Config, issuer Issuer) {
	c = Config{
		Listen: Listen{
			Address:             DefaultListenAddress,
			MaxMessageSize:      DefaultMaxMessageSize,
			ShutdownTimeout:     DefaultShutdownTimeout,
			CloseLinger:         DefaultCloseLinger,
			IdleTimeout:         DefaultIdleTimeout,
			FrameTimeout:        DefaultFrameTimeout,
			MaxConnections:      DefaultMaxConnections,
			MaxInFlight:         DefaultMaxInFlight,
			MaxConnectionsPerIP: DefaultMaxConnectionsPerIP,
			MaxPendingPerIP:     DefaultMaxPendingPerIP,
			Dialect:             DefaultDialect,
		},
		Admin: Admin{Address: DefaultAdminAddress, TokenFile: DefaultAdminTokenFile},
		Journal: Journal{Path: DefaultJournalPath, DuplicateWindow: DefaultDuplicateWindow, Sync: DefaultJournalSync,
			IndexLagMax: DefaultIndexLagMax},
		Reversals:   Reversals{RetryMin: DefaultRetryMin, RetryMax: DefaultRetryMax, Rate: DefaultReversalRate},
		Cluster:     Cluster{Lease: DefaultClusterLease},
		MemoryLimit: DefaultMemoryLimit,
	}
	issuer = Issuer{
		Timeout:        DefaultIssuerTimeout,
		EchoInterval:   DefaultEchoInterval,
		ConnectTimeout: DefaultConnectTimeout,
		ReconnectMin:   DefaultReconnectMin,
		ReconnectMax:   DefaultReconnectMax,
		Connections:    DefaultConnections,
		Dialect:        DefaultDialect,
		StandIn:        StandIn{Window: DefaultStandInWindow, AdviceTTL: DefaultAdviceTTL, AdviceRate: DefaultAdviceRate},
	}
	return c, issuer
}

// Defaults returns the listener defaults and the defaults applied to each
// issuer whose keys are left out.
func Defaults() (Listen, Issuer) {
	c, issuer := defaults()
	return c.Listen, issuer
}

// ServiceDefaults returns the defaults of the admin, journal and reversals
// sections.
func ServiceDefaults() (Admin, Journal, Reversals) {
	c, _ := defaults()
	return c.Admin, c.Journal, c.Reversals
}

// DefaultBurst is acquirers[].burst when left out (or 0): the rate rounded
// up, at least 1, so that a limited acquirer can always send one request.
func DefaultBurst(rate float64) int { return max(1, int(math.Ceil(rate))) }

// MaxInFlightTotalFor is the switch-wide in-flight cap in force: l's
// listen.max_in_flight_total when set, else memoryLimit / InFlightCost
// bounded to [MinInFlightTotal, MaxInFlightTotal] (131,072 at the default
// 1 GiB). memoryLimit is the limit in force, math.MaxInt64 when none.
func MaxInFlightTotalFor(l Listen, memoryLimit int64) int {
	if l.MaxInFlightTotal > 0 {
		return l.MaxInFlightTotal
	}
	if memoryLimit <= 0 {
		return MaxInFlightTotal
	}
	return int(min(max(memoryLimit/InFlightCost, MinInFlightTotal), MaxInFlightTotal))
}

// MaxInFlightFor is the in-flight cap in force for issuer is, of issuers
// configured in all, under the switch-wide cap total: its max_in_flight
// when set, else half of total (all of it for a lone issuer), so that one
// issuer that stops answering leaves the other half to the rest.
func MaxInFlightFor(is Issuer, issuers, total int) int {
	switch {
	case is.MaxInFlight > 0:
		return is.MaxInFlight
	case issuers <= 1:
		return total
	}
	return max(1, total/2)
}
