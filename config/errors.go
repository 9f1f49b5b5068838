package config

import (
	"strings"

	"github.com/cardswitch/cardswitch/routing"
)

// Problem is one validation failure. Where names the offending key or rule,
// e.g. `routes[3] (bin "4x1")`, `issuers[1] (bank-b)`, `listen.address`.
// It is the BIN table's problem type, so that the table's problems join
// the config's as they are.
type Problem = routing.Problem

// ValidationError reports every problem found in one config source.
type ValidationError struct {
	Source   string
	Problems []Problem
}

// Lines returns one "SOURCE: WHERE: MSG" line per problem, or
// "VARIABLE (KEY): MSG" for a value an environment variable set: the
// file is not where that value can be fixed.
func (e *ValidationError) Lines() []string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if isEnvProblem(p) {
			lines[i] = p.String()
			continue
		}
		lines[i] = e.Source + ": " + p.String()
	}
	return lines
}

func (e *ValidationError) Error() string { return strings.Join(e.Lines(), "\n") }
