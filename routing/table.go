package routing

import (
	"cmp"
	"fmt"
	"slices"
)

// Table maps PANs to issuers. It is immutable once built and safe for
// concurrent use.
type Table struct {
	bins    []string   // route bin text, by route index
	ranges  []binRange // parsed route bins, by route index
	issuer  []int32    // issuer index, by route index
	issuers []string   // issuer names, by issuer index
	def     int        // default issuer index, -1 if none
	levels  []level    // one per bin length in use, longest first
}

// level holds, for one bin length, disjoint segments sorted by start, each
// with the rule that wins over it (the narrowest covering rule).
type level struct {
	n      int
	starts []uint64
	ends   []uint64
	rules  []int32
}

// Route sends PANs matching BIN to Issuer: one rule of the table.
type Route struct {
	// BIN is a prefix of 1..11 digits ("4", "411111") or an inclusive range
	// "LOW-HIGH" whose bounds have the same length, 1..11 digits
	// ("510000-559999"). Required.
	BIN string
	// Issuer names one of the issuers the table is built with (for a
	// loaded config, an entry of its issuers). Required.
	Issuer string
}

// Match is the result of a lookup.
type Match struct {
	// Issuer is the winning issuer's name.
	Issuer string
	// IssuerIndex is the issuer's index in the issuers given to NewTable
	// (Config.Issuers for a loaded config).
	IssuerIndex int
	// Rule is the winning route's index, or -1 when default_issuer answered.
	Rule int
	// BIN is the winning route's bin text, "" for default_issuer.
	BIN string
}

// NewTable builds the BIN table for routes whose Issuer names one of issuers
// (by index). It reports every bad, duplicate or ambiguous rule and unknown
// issuer; when any problem is reported the table is nil.
func NewTable(routes []Route, issuers []string, defaultIssuer string) (*Table, []Problem) {
	t := &Table{
		bins:    make([]string, len(routes)),
		ranges:  make([]binRange, len(routes)),
		issuer:  make([]int32, len(routes)),
		issuers: slices.Clone(issuers),
		def:     -1,
	}
	index := make(map[string]int, len(issuers))
	for i, name := range issuers {
		if _, dup := index[name]; !dup {
			index[name] = i
		}
	}
	var problems []Problem
	var byLen [MaxBINDigits + 1][]int32
	for i, r := range routes {
		t.bins[i] = r.BIN
		br, err := parseBIN(r.BIN)
		if err != nil {
			problems = append(problems, Problem{RouteName(i, r.BIN), err.Error()})
		} else {
			t.ranges[i] = br
			byLen[br.n] = append(byLen[br.n], int32(i))
		}
		idx, ok := index[r.Issuer]
		switch {
		case r.Issuer == "":
			problems = append(problems, Problem{RouteName(i, r.BIN), "issuer is required"})
		case !ok:
			problems = append(problems, Problem{RouteName(i, r.BIN), fmt.Sprintf("unknown issuer %q", r.Issuer)})
		}
		t.issuer[i] = int32(idx)
	}
	if defaultIssuer != "" {
		idx, ok := index[defaultIssuer]
		if !ok {
			problems = append(problems, Problem{"default_issuer", fmt.Sprintf("unknown issuer %q", defaultIssuer)})
		}
		t.def = idx
	}
	for n := MaxBINDigits; n >= 1; n-- {
		if len(byLen[n]) == 0 {
			continue
		}
		problems = append(problems, t.conflicts(byLen[n])...)
		t.levels = append(t.levels, t.buildLevel(n, byLen[n]))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return t, nil
}

// Len returns the number of rules in the table.
func (t *Table) Len() int { return len(t.bins) }

// RouteName names rule i as the config file does: routes[i] (bin "…").
func RouteName(i int, bin string) string { return fmt.Sprintf("routes[%d] (bin %q)", i, bin) }

// byWidth orders rules of one length by width, then start, then route
// index, which puts equal-width overlapping rules next to each other.
func (t *Table) byWidth(a, b int32) int {
	ra, rb := t.ranges[a], t.ranges[b]
	return cmp.Or(cmp.Compare(ra.width(), rb.width()), cmp.Compare(ra.lo, rb.lo), cmp.Compare(a, b))
}

// conflicts reports rules that no longest/narrowest match can separate:
// identical ranges (duplicates) and equal-width ranges that partially
// overlap (ambiguous). Rules of equal width sorted by start overlap only
// if neighbours do, so checking neighbours finds every conflicting rule.
func (t *Table) conflicts(ids []int32) []Problem {
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, t.byWidth)
	var problems []Problem
	for k := 1; k < len(sorted); k++ {
		a, b := sorted[k-1], sorted[k]
		ra, rb := t.ranges[a], t.ranges[b]
		if ra.width() != rb.width() || rb.lo > ra.hi {
			continue
		}
		first, second := min(a, b), max(a, b)
		msg := "matches exactly the same PANs as " + RouteName(int(first), t.bins[first])
		if ra.lo != rb.lo {
			msg = "ambiguous: overlaps " + RouteName(int(first), t.bins[first]) +
				" with the same length and width, so neither is narrower"
		}
		problems = append(problems, Problem{RouteName(int(second), t.bins[second]), msg})
	}
	return problems
}
