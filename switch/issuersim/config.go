package issuersim

import (
	"fmt"

	"github.com/cardswitch/cardswitch/routing"
)

// validate checks what the simulator relies on. routing validates config
// files too, but New also accepts hand-built configs (tests, issuer-sim
// flags), so the simulator checks for itself.
func validate(cfg routing.Simulator) error {
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
	if p := cfg.ApprovalCodePrefix; len(p) > approvalCodeLen || !isAlnum(p) {
		return bad("approval_code_prefix", "must be at most %d letters or digits", approvalCodeLen)
	}
	for i, r := range cfg.Rules {
		if key, reason := validateRule(r); key != "" {
			return bad(fmt.Sprintf("rules[%d].%s", i, key), "%s", reason)
		}
	}
	return nil
}

// validateRule returns the offending key and the reason, or "" when r is valid.
func validateRule(r routing.SimRule) (key, reason string) {
	switch {
	case !isDigits(r.PANPrefix):
		return "pan_prefix", "must be digits"
	case !isDigits(r.PANSuffix):
		return "pan_suffix", "must be digits"
	case r.Amount < 0:
		return "amount", "must be >= 0"
	case r.Code != "" && (len(r.Code) != 2 || !isAlnum(r.Code)):
		return "code", "must be 2 letters or digits"
	case r.Delay < 0:
		return "delay", "must be >= 0"
	case r.NoAnswer && r.Malformed:
		return "malformed", "cannot be combined with no_answer"
	}
	return "", ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}
