// Package switchd is the cardswitch switch itself: the acquirer listener and
// connections, the relay of requests to issuer links, and the switch's own
// answers (15, 30, 91, 96).
//
// The directory is called switch/ as the project layout requires, but
// "switch" is a Go keyword and cannot name a package, hence switchd
// (switch daemon). Import it as
//
//	switchd "github.com/cardswitch/cardswitch/switch"
package switchd
