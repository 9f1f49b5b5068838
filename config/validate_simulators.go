package config

import "fmt"

// maxApprovalCodeLen is the length of field 38 (approval code), which the
// prefix must leave room in.
const maxApprovalCodeLen = 6

func simulatorWhere(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("simulators[%d]", i)
	}
	return fmt.Sprintf("simulators[%d] (%s)", i, name)
}

func (v *validator) simulators(raw []rawSimulator) []Simulator {
	sims := make([]Simulator, len(raw))
	listens := make(map[string]int)
	for i, r := range raw {
		where := simulatorWhere(i, r.Name)
		if err := checkHostPort(r.Listen, false); err != nil {
			v.add(where, "listen %q: %v", r.Listen, err)
		} else if first, dup := listens[r.Listen]; dup {
			v.add(where, "listen %q: already used by simulators[%d]", r.Listen, first)
		} else {
			listens[r.Listen] = i
		}
		if !IsAlnum(r.ApprovalCodePrefix) || len(r.ApprovalCodePrefix) > maxApprovalCodeLen {
			v.add(where, "approval_code_prefix %q: must be at most %d letters or digits", r.ApprovalCodePrefix, maxApprovalCodeLen)
		}
		sims[i] = Simulator{
			Name:               r.Name,
			Listen:             r.Listen,
			DeclineAbove:       v.integer(where, "decline_above", r.DeclineAbove, 0),
			Latency:            v.duration(where, "latency", r.Latency, 0, false),
			ApprovalCodePrefix: r.ApprovalCodePrefix,
			ReversalDrop:       int(v.integer(where, "reversal_drop", r.ReversalDrop, 0)),
			Rules:              make([]SimRule, len(r.Rules)),
		}
		for j, rr := range r.Rules {
			sims[i].Rules[j] = v.simRule(fmt.Sprintf("%s.rules[%d]", where, j), rr)
		}
	}
	return sims
}

func (v *validator) simRule(where string, r rawSimRule) SimRule {
	rule := SimRule{
		PANPrefix: r.PANPrefix,
		PANSuffix: r.PANSuffix,
		Amount:    v.integer(where, "amount", r.Amount, 0),
		Code:      r.Code,
		Delay:     v.duration(where, "delay", r.Delay, 0, false),
		NoAnswer:  r.NoAnswer,
		Malformed: r.Malformed,
	}
	for _, p := range rule.Problems() {
		v.add(where, "%s", p)
	}
	if rule.Code == "" && rule.Delay == 0 && !rule.NoAnswer && !rule.Malformed {
		v.add(where, "does nothing: set code, delay, no_answer or malformed")
	}
	return rule
}

// Problems validates a rule, whether read from a config file or built by
// hand (the issuer-sim command, tests): one message per problem.
func (r SimRule) Problems() []string {
	var out []string
	if !isDigits(r.PANPrefix) {
		out = append(out, "pan_prefix: must be digits")
	}
	if !isDigits(r.PANSuffix) {
		out = append(out, "pan_suffix: must be digits")
	}
	if r.Amount < 0 {
		out = append(out, "amount: must not be negative")
	}
	if r.Code != "" && (len(r.Code) != 2 || !IsAlnum(r.Code)) {
		out = append(out, fmt.Sprintf("code %q: must be 2 letters or digits", r.Code))
	}
	if r.Delay < 0 {
		out = append(out, "delay: must not be negative")
	}
	if r.NoAnswer && r.Malformed {
		out = append(out, "no_answer and malformed exclude each other")
	}
	return out
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsAlnum reports whether s holds only ASCII letters and digits.
func IsAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
