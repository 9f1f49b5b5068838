package grafana

import (
	"regexp"
	"slices"
	"strings"
)

var (
	// Parts of a PromQL expression that never name a metric, removed
	// before identifiers are collected.
	stringLit   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	matchers    = regexp.MustCompile(`\{[^{}]*\}`)
	ranges      = regexp.MustCompile(`\[[^\[\]]*\]`)
	variables   = regexp.MustCompile(`\$\{?\w+\}?`)
	labelLists  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	offsets     = regexp.MustCompile(`\boffset\s+-?\w+`)
	identifiers = regexp.MustCompile(`[a-zA-Z_:][\w:]*`)
	labelValues = regexp.MustCompile(`^\s*label_values\(\s*([^,()]+?)\s*(?:,[^()]*)?\)\s*$`)
	keywords    = []string{"and", "or", "unless", "bool", "by", "without", "on", "ignoring",
		"group_left", "group_right", "offset", "inf", "nan", "Inf", "NaN"}
)

// metricNames returns the metric names an expression selects, in order of
// appearance: identifiers that are not inside label matchers, strings or
// ranges, not label lists, not parts of numbers, and not called as
// functions or aggregations. Grafana's label_values(metric, label) yields
// its metric.
func metricNames(expr string) []string {
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		expr = m[1]
	}
	for _, re := range []*regexp.Regexp{stringLit, variables, matchers, ranges, labelLists, offsets} {
		expr = re.ReplaceAllString(expr, " ")
	}
	var out []string
	for _, loc := range identifiers.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		if loc[0] > 0 && isNumberPart(expr[loc[0]-1]) {
			continue // the "e3" of 1e3
		}
		if strings.HasPrefix(strings.TrimLeft(expr[loc[1]:], " \t\n"), "(") {
			continue // a function or aggregation
		}
		if slices.Contains(keywords, name) || strings.HasPrefix(name, "__") {
			continue
		}
		out = append(out, name)
	}
	return out
}

func isNumberPart(c byte) bool { return c >= '0' && c <= '9' || c == '.' }
