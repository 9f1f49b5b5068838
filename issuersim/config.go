package issuersim

import (
	"fmt"

	"github.com/cardswitch/cardswitch/config"
)

// validate checks what the simulator relies on. routing validates config
// files too, but New also accepts hand-built configs (tests, issuer-sim
// flags), so the simulator checks for itself.
func validate(cfg config.Simulator) error {
	bad := func(key, format string, a ...any) error {
		return &ConfigError{Sim: cfg.Name, Key: key, Reason: fmt.Sprintf(format, a...)}
	}
	if cfg.Listen == "" {
		return bad("listen", "required")
	}
	if cfg.DeclineAbove < 0 {
		return bad("decline_above", "must be >= 0")
	}
	if cfg.Latency < 0 {
		return bad("latency", "must be >= 0")
	}
	if cfg.ReversalDrop < 0 {
		return bad("reversal_drop", "must be >= 0")
	}
	// A 6-character prefix is allowed (as routing allows it): every approval
	// then carries the same code.
	if p := cfg.ApprovalCodePrefix; len(p) > approvalCodeLen || !config.IsAlnum(p) {
		return bad("approval_code_prefix", "must be at most %d letters or digits", approvalCodeLen)
	}
	for i, r := range cfg.Rules {
		if p := r.Problems(); len(p) > 0 {
			return bad(fmt.Sprintf("rules[%d]", i), "%s", p[0])
		}
	}
	return nil
}
