// Package routing is the BIN table: it maps a card number to an issuer.
// NewTable builds it from a list of rules (Route: a bin prefix or range and
// an issuer name), rejecting bad, duplicate and ambiguous rules; Lookup
// finds a PAN's issuer by longest match, then narrowest range, without
// allocating; Explain tells why (`cardswitch route`); Moves lists the BIN
// spans that change issuer between two tables (`routes diff`, reload).
//
// It knows nothing of configuration files, sockets or ISO 8583 messages:
// package config reads the routes and builds the table while validating,
// and the switch hands Lookup the PAN's ASCII digits and gets back an
// issuer index. Route is defined here, and config.Route is the same type,
// so that a table of half a million routes is built from the list as read.
package routing
