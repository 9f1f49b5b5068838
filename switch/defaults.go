package switchd

import "time"

// Limits are the switch's internal bounds that the config file does not
// (yet) expose. Each is a safety valve against a misbehaving peer, never a
// queue that grows without bound.
type Limits struct {
	// AcquirerBacklog is the most response bytes queued for one acquirer
	// that does not read them; past it the connection is closed.
	AcquirerBacklog int
	// AcquirerSendBuffer, when > 0, is the SO_SNDBUF of acquirer sockets.
	// 0 leaves the kernel's autotuning, which lets several MiB of unread
	// answers sit in the kernel before AcquirerBacklog is reached.
	AcquirerSendBuffer int
	// IssuerBacklog is the most request bytes queued for one issuer link.
	IssuerBacklog int
	// LinkInFlight is the most requests pending on one issuer link; past it
	// the request goes to another link, or is answered 91.
	LinkInFlight int
	// LogBurst lines of one log message (by level and message text) are
	// written per LogInterval; the rest are counted and reported in one
	// summary line per message and interval. Debug lines are not limited.
	// 0 writes every line.
	LogBurst    int
	LogInterval time.Duration
	// LinkSTANs and LinkLateGrace are issuer.LinkConfig's STANSpace and
	// LateGrace: 0 (the defaults) in production, small in tests that must
	// make a link's STANs wrap.
	LinkSTANs     int
	LinkLateGrace time.Duration
}

// logKeys bounds the distinct log messages the rate limit tracks; the
// switch has far fewer, all constants.
const logKeys = 512

// DefaultLimits are the bounds used unless WithLimits says otherwise.
var DefaultLimits = Limits{
	AcquirerBacklog: 4 << 20,
	IssuerBacklog:   16 << 20,
	LinkInFlight:    100_000,
	LogBurst:        10,
	LogInterval:     time.Second,
}
