package routing

import "time"

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

	DefaultIssuerTimeout  = 5 * time.Second
	DefaultEchoInterval   = 30 * time.Second
	DefaultConnectTimeout = 2 * time.Second
	DefaultReconnectMin   = 100 * time.Millisecond
	DefaultReconnectMax   = 5 * time.Second

	// DefaultAdminAddress and DefaultJournalPath are "": a config that
	// leaves the keys out runs without admin server and journal, so old
	// configs and tests neither bind a fixed port nor write a file.
	DefaultAdminAddress    = ""
	DefaultJournalPath     = ""
	DefaultDuplicateWindow = 10 * time.Minute
	DefaultJournalSync     = "normal"

	// DefaultAdminTokenFile is "": no admin token, which only a loopback
	// admin.address allows.
	DefaultAdminTokenFile = ""
	// MinAdminTokenLen is the shortest admin token accepted: 16 characters
	// of a random token leave no room for guessing over the network.
	MinAdminTokenLen = 16

	DefaultRetryMin = time.Second
	DefaultRetryMax = time.Minute

	// MinMessageSize and MaxMessageSize bound listen.max_message_size: the
	// two-byte length header cannot express more than 65535.
	MinMessageSize = 64
	MaxMessageSize = 65535
)

// Defaults returns the listener defaults and the defaults applied to each
// issuer whose keys are left out.
func Defaults() (Listen, Issuer) {
	return Listen{
			Address:         DefaultListenAddress,
			MaxMessageSize:  DefaultMaxMessageSize,
			ShutdownTimeout: DefaultShutdownTimeout,
			CloseLinger:     DefaultCloseLinger,
			IdleTimeout:     DefaultIdleTimeout,
			FrameTimeout:    DefaultFrameTimeout,
			MaxConnections:  DefaultMaxConnections,
			MaxInFlight:     DefaultMaxInFlight,

			MaxConnectionsPerIP: DefaultMaxConnectionsPerIP,
			MaxPendingPerIP:     DefaultMaxPendingPerIP,
		}, Issuer{
			Timeout:        DefaultIssuerTimeout,
			EchoInterval:   DefaultEchoInterval,
			ConnectTimeout: DefaultConnectTimeout,
			ReconnectMin:   DefaultReconnectMin,
			ReconnectMax:   DefaultReconnectMax,
		}
}

// ServiceDefaults returns the defaults of the admin, journal and reversals
// sections.
func ServiceDefaults() (Admin, Journal, Reversals) {
	return Admin{Address: DefaultAdminAddress, TokenFile: DefaultAdminTokenFile},
		Journal{Path: DefaultJournalPath, DuplicateWindow: DefaultDuplicateWindow, Sync: DefaultJournalSync},
		Reversals{RetryMin: DefaultRetryMin, RetryMax: DefaultRetryMax}
}
