package config

import "github.com/cardswitch/cardswitch/iso"

// Listener is an extra acquirer listener (listeners:), beside listen.address,
// with its own dialect and TLS. Every listen.* limit applies to its
// connections as to listen.address's: the per-connection ones
// (max_message_size, idle_timeout, frame_timeout, max_in_flight) to each
// connection, the counts (max_connections, max_connections_per_ip,
// max_pending_per_ip, max_in_flight_total) across every listener together.
// The listener set is restart-only.
type Listener struct {
	// Name labels the listener in logs, metrics and the journal. Required,
	// unique; "listen" is listen.address's.
	Name string
	// Address is the host:port it accepts acquirers on. Required, unique
	// among listen.address and every listener.
	Address string
	// Dialect is how its acquirers speak. Default iso87ascii.
	Dialect string
	// TLS, when set, makes it speak TLS (its certificate files are read at
	// start). Default nil: plain TCP.
	TLS *ServerTLS
}

// MainListener is the name listen.address's listener goes by in logs,
// metrics and the journal.
const MainListener = "listen"

// Dialect is a user-defined dialect (dialects:).
type Dialect struct {
	// Name is how listen.dialect, listeners[].dialect and
	// issuers[].dialect refer to it. Required, unique, not a built-in's.
	Name string
	// Spec is the moov-io JSON spec file, relative to the config file's
	// folder. Required; it must load (specs.ImportJSON).
	Spec string
	// Version is 1987 or 1993: how MTIs and response codes are read. Required.
	Version int
	// Length is the length header: binary2, binary2-inclusive, bcd2,
	// ascii4, binary4 or none. Default binary2.
	Length string
	// Header is what is sent between the length and the message: "", tpdu
	// or hex:<bytes in hex>. Default "".
	Header string
}

// LookupDialect returns the dialect called name: a built-in or one of
// c's dialects; "" is DefaultDialect. A Config from Load has checked every
// name it uses.
func (c *Config) LookupDialect(name string) (iso.Dialect, bool) {
	if name == "" {
		name = DefaultDialect
	}
	if d, ok := c.dialects[name]; ok {
		return d, true
	}
	d, err := iso.LookupDialect(name)
	return d, err == nil
}
