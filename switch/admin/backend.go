package admin

import "context"

// Backend is what the admin listener asks of the switch.
type Backend interface {
	// Ready reports whether the switch should receive traffic: listening,
	// config loaded, at least one issuer link up. why explains a false.
	Ready() (ok bool, why string)
	// Routes returns the live routing table; it must marshal to JSON.
	Routes() any
	// Reload re-reads the configuration and applies it. The result must
	// marshal to JSON. An error that has a Lines() []string method (such
	// as a validation error) has its lines reported as "problems".
	Reload(ctx context.Context) (any, error)
}

// liner is implemented by errors that list several problems, one per line.
type liner interface{ Lines() []string }
