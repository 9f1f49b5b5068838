// Package metrics exposes the switch's Prometheus metrics.
//
// A Metrics owns its own registry (never the global one), so tests and
// several switches in one process do not collide. The hot-path methods
// (Request, Unreadable, Rejected, AcquirerConn) do not allocate once the
// label combinations they see have been met once: their children are cached
// in copy-on-write maps, so a lookup is an atomic load and a map read.
//
// Every metric family this package registers is listed by Families, which
// the Grafana dashboard test uses so that the dashboard cannot drift from the
// code.
package metrics
