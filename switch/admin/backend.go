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

// Simulators drives the issuer simulators that run inside the switch
// process (config simulators[]), so that a demo or a test can take an
// issuer host away and bring it back.
type Simulators interface {
	// SimulatorStates lists every simulator with its state; it must
	// marshal to JSON.
	SimulatorStates() any
	// SetSimulatorDown takes the simulator called name down (down true)
	// or brings it up, and returns its state, which must marshal to JSON;
	// found is false when no simulator has that name.
	SetSimulatorDown(name string, down bool) (state any, found bool)
}
