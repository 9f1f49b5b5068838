// Package acquirers identifies the acquirer behind a connection and
// enforces its limits. It is pure logic: the switch asks it who a peer is
// (Registry.Identify), whether a connection may open (Limiter.Connect),
// whether a request may proceed (Limiter.Begin / End) and whether field 32
// is the acquirer's (CheckInstitution).
//
// A Registry is immutable and rebuilt on every config reload; a Limiter
// lives as long as the switch and keys its state by acquirer name, so open
// connections, requests in flight and rate-limit tokens carry over a reload.
package acquirers
