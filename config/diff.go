package config

import (
	"maps"
	"reflect"
	"slices"

	"github.com/cardswitch/cardswitch/routing"
)

// ConfigDiff is what changed between two configs; see Diff (the
// function has the short name, as callers use it).
type ConfigDiff struct {
	// Added are rules whose bin text is only in the new config (Index in
	// new), Removed those only in the old (Index in old, Issuer the old
	// issuer), Changed those with the same bin and another issuer (Index in
	// new). Each sorted by Index.
	Added, Removed, Changed []RouteChange
	// Moves are the BIN spans whose effective issuer changes, computed
	// from the two tables with longest-match semantics and default_issuer.
	Moves []routing.Move
	// IssuersAdded and IssuersRemoved are issuer names only in the new or
	// old config; IssuersChanged those whose endpoints, timeouts or TLS
	// differ. Sorted.
	IssuersAdded, IssuersRemoved, IssuersChanged []string
	// Restart are changed keys that take effect only after a restart (the
	// restart-only keys, listed in diffKeys): listen.address, listen.tls
	// added or removed (TLS to plain TCP or back), admin.address, journal.path, journal.sync,
	// journal.index_lag_max, journal.key_file, memory_limit, simulators,
	// listen.dialect, listeners, dialects.
	Restart []string
	// Other are other changed keys, applied by a reload: listen.* limits and
	// timeouts (max_message_size for new connections), listen.tls files
	// (for new handshakes), journal.duplicate_window,
	// reversals, acquirers, admin.token_file and admin.hosts. Without it a
	// diff of only such keys would be Empty.
	Other []string
}

// RouteChange is one added, removed or changed rule.
type RouteChange struct {
	Index     int    // index in routes (new config; old config for Removed)
	BIN       string // the rule's bin text
	Issuer    string // the rule's issuer (for Removed, the old one)
	OldIssuer string // for Changed: the issuer before
}

// Diff compares two loaded configs (from Load, LoadBytes or LoadDefault).
func Diff(old, new *Config) ConfigDiff {
	var d ConfigDiff
	d.Added, d.Removed, d.Changed = diffRoutes(old.Routes, new.Routes)
	d.Moves = routing.Moves(old.Table(), new.Table())
	d.IssuersAdded, d.IssuersRemoved, d.IssuersChanged = diffIssuers(old.Issuers, new.Issuers)
	d.Restart, d.Other = diffKeys(old, new)
	return d
}

// Empty reports whether the configs route and behave the same.
func (d ConfigDiff) Empty() bool {
	return len(d.Added)+len(d.Removed)+len(d.Changed)+len(d.Moves)+len(d.IssuersAdded)+
		len(d.IssuersRemoved)+len(d.IssuersChanged)+len(d.Restart)+len(d.Other) == 0
}

func diffRoutes(old, new []Route) (added, removed, changed []RouteChange) {
	before := make(map[string]int, len(old))
	for i, r := range old {
		before[r.BIN] = i
	}
	seen := make(map[string]bool, len(new))
	for i, r := range new {
		seen[r.BIN] = true
		j, ok := before[r.BIN]
		switch {
		case !ok:
			added = append(added, RouteChange{Index: i, BIN: r.BIN, Issuer: r.Issuer})
		case old[j].Issuer != r.Issuer:
			changed = append(changed, RouteChange{Index: i, BIN: r.BIN, Issuer: r.Issuer, OldIssuer: old[j].Issuer})
		}
	}
	for i, r := range old {
		if !seen[r.BIN] {
			removed = append(removed, RouteChange{Index: i, BIN: r.BIN, Issuer: r.Issuer})
		}
	}
	return added, removed, changed
}

func diffIssuers(old, new []Issuer) (added, removed, changed []string) {
	before := make(map[string]Issuer, len(old))
	for _, is := range old {
		before[is.Name] = is
	}
	after := make(map[string]bool, len(new))
	for _, is := range new {
		after[is.Name] = true
		if o, ok := before[is.Name]; !ok {
			added = append(added, is.Name)
		} else if !reflect.DeepEqual(o, is) {
			changed = append(changed, is.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(before)) {
		if !after[name] {
			removed = append(removed, name)
		}
	}
	slices.Sort(added)
	slices.Sort(changed)
	return added, removed, changed
}

// diffKeys compares the scalar sections key by key, so the names can go
// into logs and the reload answer. It is where a key is declared
// restart-only (restart) or reloadable (other): the switch applies what
// it is told is reloadable and reports the rest as needing a restart.
func diffKeys(old, new *Config) (restart, other []string) {
	check := func(list *[]string, key string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			*list = append(*list, key)
		}
	}
	ol, nl := old.Listen, new.Listen
	check(&restart, "listen.address", ol.Address, nl.Address)
	// The listener is bound as TLS or plain TCP at start: only switching
	// between them needs a restart. New files under a tls section are
	// re-read by every reload (see the switch's certificate reload).
	if (ol.TLS == nil) != (nl.TLS == nil) {
		restart = append(restart, "listen.tls")
	} else {
		check(&other, "listen.tls", ol.TLS, nl.TLS)
	}
	check(&restart, "admin.address", old.Admin.Address, new.Admin.Address)
	check(&other, "admin.token_file", old.Admin.TokenFile, new.Admin.TokenFile)
	check(&other, "admin.hosts", emptyNil(old.Admin.Hosts), emptyNil(new.Admin.Hosts))
	check(&restart, "journal.path", old.Journal.Path, new.Journal.Path)
	check(&restart, "journal.sync", old.Journal.Sync, new.Journal.Sync)
	check(&restart, "journal.index_lag_max", old.Journal.IndexLagMax, new.Journal.IndexLagMax)
	check(&restart, "memory_limit", old.MemoryLimit, new.MemoryLimit)
	check(&restart, "journal.key_file", old.Journal.KeyFile, new.Journal.KeyFile)
	check(&restart, "journal.postgres", old.Journal.Postgres, new.Journal.Postgres)
	check(&restart, "journal.spool", old.Journal.Spool, new.Journal.Spool)
	check(&restart, "cluster.node", old.Cluster.Node, new.Cluster.Node)
	check(&restart, "cluster.lease", old.Cluster.Lease, new.Cluster.Lease)
	check(&other, "listen.max_message_size", ol.MaxMessageSize, nl.MaxMessageSize)
	check(&other, "listen.shutdown_timeout", ol.ShutdownTimeout, nl.ShutdownTimeout)
	check(&other, "listen.close_linger", ol.CloseLinger, nl.CloseLinger)
	check(&other, "listen.idle_timeout", ol.IdleTimeout, nl.IdleTimeout)
	check(&other, "listen.frame_timeout", ol.FrameTimeout, nl.FrameTimeout)
	check(&other, "listen.max_connections", ol.MaxConnections, nl.MaxConnections)
	check(&other, "listen.max_in_flight", ol.MaxInFlight, nl.MaxInFlight)
	check(&other, "listen.max_connections_per_ip", ol.MaxConnectionsPerIP, nl.MaxConnectionsPerIP)
	check(&other, "listen.max_pending_per_ip", ol.MaxPendingPerIP, nl.MaxPendingPerIP)
	check(&other, "listen.max_in_flight_total", ol.MaxInFlightTotal, nl.MaxInFlightTotal)
	check(&other, "journal.duplicate_window", old.Journal.DuplicateWindow, new.Journal.DuplicateWindow)
	check(&other, "journal.retention", old.Journal.Retention, new.Journal.Retention)
	check(&other, "reversals", old.Reversals, new.Reversals)
	check(&other, "acquirers", emptyNil(old.Acquirers), emptyNil(new.Acquirers))
	check(&restart, "simulators", emptyNil(old.Simulators), emptyNil(new.Simulators))
	// Listeners are bound, and dialects loaded, at start. An issuer's
	// dialect is part of the issuer (IssuersChanged): a reload replaces its
	// links.
	check(&restart, "listen.dialect", ol.Dialect, nl.Dialect)
	check(&restart, "listeners", emptyNil(old.Listeners), emptyNil(new.Listeners))
	check(&restart, "dialects", emptyNil(old.Dialects), emptyNil(new.Dialects))
	return restart, other
}

// emptyNil makes an empty list equal to a missing one.
func emptyNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
