package config

import (
	"fmt"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"strconv"
	"time"
)

// maxApprovalCodeLen is the length of field 38 (approval code), which the
// prefix must leave room in.
const maxApprovalCodeLen = 6

func simulatorWhere(i int, name string) string {
	if name == "" {
		return fmt.Sprintf("simulators[%d]", i)
	}
	return fmt.Sprintf("simulators[%d] (%s)", i, name)
}

// simulators reads each entry's numbers, then checks it with
// checkSimulator, the one place that holds a simulator's rules; only the
// uniqueness of listen, which spans the list, is checked here.
func (v *validator) simulators(raw []rawSimulator) []Simulator {
	sims := make([]Simulator, len(raw))
	listens := make(map[string]int)
	names := make(map[string]int) // the admin listener drives a simulator by name
	for i, r := range raw {
		where := simulatorWhere(i, r.Name)
		s, text := readSimulator(r)
		if first, dup := names[s.Name]; dup && s.Name != "" {
			v.add(where, "name %q: already used by simulators[%d]", s.Name, first)
		} else if s.Name != "" {
			names[s.Name] = i
		}
		// A listen checkSimulator accepts may still be taken by an
		// earlier entry: reported first, where its listen problem would be.
		if checkHostPort(s.Listen, false) == nil {
			if first, dup := listens[s.Listen]; dup {
				v.add(where, "listen %q: already used by simulators[%d]", s.Listen, first)
			} else {
				listens[s.Listen] = i
			}
		}
		for _, p := range checkSimulator(s, text) {
			if p.Where == "" {
				v.add(where, "%s", p.Msg)
			} else {
				v.add(where+"."+p.Where, "%s", p.Msg)
			}
		}
		sims[i] = s
	}
	return sims
}

// parsed holds, by key ("latency", "rules[2].amount"), the problems the
// key's text had in the file. checkSimulator reports them in its own
// order, in place of the key's typed rule, so a file's messages quote the
// text as written.
type parsed map[string][]string

// readSimulator turns the file's text into a Simulator, keeping the
// problems of the text aside for checkSimulator.
func readSimulator(r rawSimulator) (Simulator, parsed) {
	text := make(parsed)
	s := Simulator{
		Name:               r.Name,
		Listen:             r.Listen,
		DeclineAbove:       text.integer("decline_above", "decline_above", r.DeclineAbove),
		Latency:            text.duration("latency", "latency", r.Latency),
		ApprovalCodePrefix: r.ApprovalCodePrefix,
		ReversalDrop:       int(text.integer("reversal_drop", "reversal_drop", r.ReversalDrop)),
		Rules:              make([]SimRule, len(r.Rules)),
		Dialect:            r.Dialect,
		DownAfter:          int(text.integer("down_after", "down_after", r.DownAfter)),
	}
	for j, rr := range r.Rules {
		at := fmt.Sprintf("rules[%d].", j)
		s.Rules[j] = SimRule{
			PANPrefix: rr.PANPrefix,
			PANSuffix: rr.PANSuffix,
			Amount:    text.integer(at+"amount", "amount", rr.Amount),
			Code:      rr.Code,
			Delay:     text.duration(at+"delay", "delay", rr.Delay),
			NoAnswer:  rr.NoAnswer,
			Malformed: rr.Malformed,
		}
	}
	return s, text
}

// integer reads a simulator number with the file's integer rules
// (validator.integer), keeping its problems under at.
func (p parsed) integer(at, key, s string) int64 {
	var v validator
	n := v.integer("", key, s, 0)
	p.keep(at, v.problems)
	return n
}

// duration is integer for a duration.
func (p parsed) duration(at, key, s string) time.Duration {
	var v validator
	d := v.duration("", key, s, 0, false)
	p.keep(at, v.problems)
	return d
}

func (p parsed) keep(at string, problems []Problem) {
	for _, pr := range problems {
		p[at] = append(p[at], pr.Msg)
	}
}

// Problems checks a simulator built by hand (the issuer-sim command,
// tests) with the rules a config file's simulators section is checked
// with. Where is "" for the simulator's own keys (the message names the
// key) and "rules[N]" for a rule.
func (s Simulator) Problems() []Problem { return checkSimulator(s, nil) }

// checkSimulator holds the rules of one simulator, in the order they are
// reported. text carries the problems of keys read from a file (nil for a
// hand-built simulator); a key with one is reported by it instead of by
// its typed rule.
func checkSimulator(s Simulator, text parsed) []Problem {
	var out []Problem
	add := func(where, format string, args ...any) {
		out = append(out, Problem{Where: where, Msg: fmt.Sprintf(format, args...)})
	}
	// number reports key's text problems, else a negative value.
	number := func(where, at, key string, negative bool, value string) {
		if msgs := text[at]; len(msgs) > 0 {
			for _, m := range msgs {
				add(where, "%s", m)
			}
		} else if negative {
			add(where, "%s %q: must not be negative", key, value)
		}
	}
	if err := checkHostPort(s.Listen, false); err != nil {
		add("", "listen %q: %v", s.Listen, err)
	}
	if !isAlnum(s.ApprovalCodePrefix) || len(s.ApprovalCodePrefix) > maxApprovalCodeLen {
		add("", "approval_code_prefix %q: must be at most %d letters or digits", s.ApprovalCodePrefix, maxApprovalCodeLen)
	}
	number("", "decline_above", "decline_above", s.DeclineAbove < 0, strconv.FormatInt(s.DeclineAbove, 10))
	number("", "latency", "latency", s.Latency < 0, s.Latency.String())
	number("", "reversal_drop", "reversal_drop", s.ReversalDrop < 0, strconv.Itoa(s.ReversalDrop))
	number("", "down_after", "down_after", s.DownAfter < 0, strconv.Itoa(s.DownAfter))
	if msg := simDialectProblem(s.Dialect); msg != "" {
		add("", "%s", msg)
	}
	for j, r := range s.Rules {
		where := fmt.Sprintf("rules[%d]", j)
		number(where, where+".amount", "amount", false, "")
		number(where, where+".delay", "delay", false, "")
		for _, p := range r.Problems() {
			add(where, "%s", p)
		}
		// In a file, a rule without an action is a slip (it only hides the
		// rules after it); hand-built ones may use it to do just that.
		if text != nil && r.Code == "" && r.Delay == 0 && !r.NoAnswer && !r.Malformed {
			add(where, "does nothing: set code, delay, no_answer or malformed")
		}
	}
	return out
}

// Problems checks one rule's own keys: one message per problem.
// checkSimulator reports them under the rule's key.
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
	if r.Code != "" && (len(r.Code) != 2 || !isAlnum(r.Code)) {
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

// isAlnum reports whether s holds only ASCII letters and digits.
func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// simDialectProblem checks a simulator's dialect: a built-in dialect name
// ("" is iso87ascii), as the simulator speaks the dialect itself without
// the switch's translation.
func simDialectProblem(name string) string {
	if name == "" {
		return ""
	}
	if _, err := dialectio.Lookup(name); err != nil {
		return "dialect: " + err.Error()
	}
	return ""
}
