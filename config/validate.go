package config

import (
	"fmt"
	"time"

	"github.com/cardswitch/cardswitch/routing"
)

// validator collects every problem of one config instead of stopping at
// the first, so a user fixes a file in one pass.
type validator struct {
	problems []Problem
}

func (v *validator) add(where, format string, args ...any) {
	v.problems = append(v.problems, Problem{Where: where, Msg: fmt.Sprintf(format, args...)})
}

// build validates raw and turns it into a Config with its BIN table. The
// Config is only usable when no problem is returned.
func build(source string, raw *rawConfig) (*Config, []Problem) {
	var v validator
	c := &Config{
		Source:        source,
		Listen:        v.listen(raw.Listen),
		Issuers:       v.issuers(raw.Issuers),
		Routes:        v.routes(raw),
		DefaultIssuer: raw.DefaultIssuer,
		Simulators:    v.simulators(raw.Simulators),
		Admin:         v.admin(raw.Admin),
		Journal:       v.journal(raw.Journal),
		Reversals:     v.reversals(raw.Reversals),
		Cluster:       v.cluster(raw.Cluster),
		MemoryLimit:   v.memoryLimit(raw.MemoryLimit),
	}
	c.Acquirers = v.acquirers(raw.Acquirers, c.Listen.TLS)
	c.Dialects, c.dialects = v.dialects(raw.Dialects)
	c.Listeners = v.listeners(raw.Listeners, c.Listen.Address)
	v.checkDialectNames(c)
	for i, is := range c.Issuers {
		if is.StandIn.Enabled && c.Journal.Path == "" && c.Journal.Postgres == "" {
			v.add(issuerWhere(i, is.Name)+".stand_in", "enabled needs journal.path or journal.postgres: the card counters and the advices owed are kept in the journal")
		}
	}
	table, problems := routing.NewTable(c.Routes, c.IssuerNames(), c.DefaultIssuer)
	v.problems = append(v.problems, problems...)
	c.table = table
	return c, v.problems
}

func (v *validator) listen(raw rawListen) Listen {
	def, _ := Defaults()
	l := Listen{Address: raw.Address}
	if err := checkHostPort(raw.Address, false); err != nil {
		v.add("listen.address", "%q: %v", raw.Address, err)
	}
	l.MaxMessageSize = int(v.integer("listen.max_message_size", "", raw.MaxMessageSize, int64(def.MaxMessageSize)))
	if l.MaxMessageSize < MinMessageSize || l.MaxMessageSize > MaxMessageSize {
		v.add("listen.max_message_size", "%d: must be between %d and %d", l.MaxMessageSize, MinMessageSize, MaxMessageSize)
	}
	l.ShutdownTimeout = v.duration("listen.shutdown_timeout", "", raw.ShutdownTimeout, def.ShutdownTimeout, false)
	l.CloseLinger = v.duration("listen.close_linger", "", raw.CloseLinger, def.CloseLinger, false)
	l.IdleTimeout = v.duration("listen.idle_timeout", "", raw.IdleTimeout, def.IdleTimeout, false)
	l.FrameTimeout = v.duration("listen.frame_timeout", "", raw.FrameTimeout, def.FrameTimeout, false)
	l.MaxConnections = v.positive("listen.max_connections", raw.MaxConnections, def.MaxConnections)
	l.MaxInFlight = v.positive("listen.max_in_flight", raw.MaxInFlight, def.MaxInFlight)
	l.MaxConnectionsPerIP = v.positive("listen.max_connections_per_ip", raw.MaxConnsPerIP, def.MaxConnectionsPerIP)
	l.MaxPendingPerIP = v.positive("listen.max_pending_per_ip", raw.MaxPendingPerIP, def.MaxPendingPerIP)
	if l.MaxPendingPerIP > l.MaxConnectionsPerIP && l.MaxConnectionsPerIP > 0 {
		if raw.MaxPendingPerIP == "" { // left out: the default follows a lower per-address cap
			l.MaxPendingPerIP = l.MaxConnectionsPerIP
		} else {
			v.add("listen.max_pending_per_ip", "%d: must not exceed listen.max_connections_per_ip (%d)",
				l.MaxPendingPerIP, l.MaxConnectionsPerIP)
		}
	}
	l.MaxInFlightTotal = int(v.integer("listen.max_in_flight_total", "", raw.MaxInFlightTotal, 0))
	l.TLS = v.serverTLS(raw.TLS, raw.HasTLS)
	l.Dialect = raw.Dialect
	if l.Dialect == "" {
		l.Dialect = def.Dialect
	}
	return l
}

func (v *validator) routes(raw *rawConfig) []Route {
	if raw.HasFastRoutes {
		return raw.FastRoutes
	}
	routes := make([]Route, len(raw.Routes))
	for i, r := range raw.Routes {
		routes[i].Issuer = r.Issuer
		switch bin := r.BIN.(type) {
		case nil:
		case string:
			routes[i].BIN = bin
		default:
			routes[i].BIN = fmt.Sprint(bin)
			v.add(routing.RouteName(i, routes[i].BIN), "bin must be quoted (bin: \"%v\") so that leading zeros are kept", bin)
		}
	}
	return routes
}

// duration parses s, a YAML duration; "" means def. key is prepended to the
// message when where names the item rather than the key itself.
func (v *validator) duration(where, key, s string, def time.Duration, positive bool) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.add(where, "%s: invalid duration", quoteKey(key, s))
	case d < 0:
		v.add(where, "%s: must not be negative", quoteKey(key, s))
	case d == 0 && positive:
		v.add(where, "%s: must be positive", quoteKey(key, s))
	}
	return d
}

// integer parses s, a non-negative integer; "" means def.
func (v *validator) integer(where, key, s string, def int64) int64 {
	if s == "" {
		return def
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil || fmt.Sprint(n) != s {
		v.add(where, "%s: not an integer", quoteKey(key, s))
		return def
	}
	if n < 0 {
		v.add(where, "%s: must not be negative", quoteKey(key, s))
	}
	return n
}

// positive is integer for a key that must be at least 1.
func (v *validator) positive(where, s string, def int) int {
	n := v.integer(where, "", s, int64(def))
	if n == 0 {
		v.add(where, "%q: must be positive", s)
	}
	return int(n)
}

func quoteKey(key, value string) string {
	if key == "" {
		return fmt.Sprintf("%q", value)
	}
	return fmt.Sprintf("%s %q", key, value)
}
