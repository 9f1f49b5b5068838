package routing

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testIssuers = []string{"bank-a", "bank-b", "bank-c"}

func mustTable(t testing.TB, def string, bins ...string) *Table {
	t.Helper()
	routes := make([]Route, len(bins))
	for i, b := range bins {
		// Issuers cycle so that neighbouring rules route differently.
		routes[i] = Route{BIN: b, Issuer: testIssuers[i%len(testIssuers)]}
	}
	table, problems := NewTable(routes, testIssuers, def)
	require.Empty(t, problems)
	require.NotNil(t, table)
	return table
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name     string
		bins     []string // route i goes to testIssuers[i%3]
		def      string
		pan      string
		wantRule int // -1: default issuer; -2: no match
	}{
		{"prefix", []string{"4"}, "", "4111111111111111", 0},
		{"prefix no match", []string{"4"}, "", "5111111111111111", -2},
		{"range", []string{"510000-559999"}, "", "5500000000000004", 0},
		{"range low bound", []string{"510000-559999"}, "", "5100000000000008", 0},
		{"range high bound", []string{"510000-559999"}, "", "5599990000000000", 0},
		{"range below", []string{"510000-559999"}, "", "5099990000000000", -2},
		{"range above", []string{"510000-559999"}, "", "5600000000000000", -2},
		{"longer prefix wins", []string{"4", "4111"}, "", "4111111111111111", 1},
		{"longer prefix wins, any order", []string{"4111", "4"}, "", "4111111111111111", 0},
		{"shorter prefix outside longer", []string{"4", "4111"}, "", "4222222222222222", 0},
		{"range beats shorter prefix", []string{"4", "400000-400099"}, "", "4000500000000000", 1},
		{"prefix beats shorter range", []string{"400-499", "40005"}, "", "4000500000000000", 1},
		{"longer range beats shorter range", []string{"2-4", "2221-2720"}, "", "2500000000000000", 1},
		{"nested: innermost wins", []string{"4", "400000-400099", "40000012"}, "", "4000001234567899", 2},
		{"nested: middle wins", []string{"4", "400000-400099", "40000012"}, "", "4000001334567899", 1},
		{"equal length: narrower range wins", []string{"510000-559999", "555000-555999"}, "", "5555555555554444", 1},
		{"equal length: prefix is narrowest", []string{"510000-559999", "555555"}, "", "5555555555554444", 1},
		{"equal length: partial overlap, narrower wins", []string{"5100-5199", "5150-5159", "5155-5300"}, "", "5156000000000000", 1},
		{"equal length: wider one covers the rest", []string{"5100-5199", "5150-5159"}, "", "5160000000000000", 0},
		{"default issuer", []string{"4"}, "bank-c", "6011000000000004", -1},
		{"rule beats default", []string{"4"}, "bank-c", "4111111111111111", 0},
		{"PAN shorter than the rule", []string{"4", "41111111111"}, "", "4111111111", 0},
		{"PAN as long as the rule", []string{"4", "41111111111"}, "", "41111111111", 1},
		{"non-digit PAN", []string{"4"}, "bank-c", "4111x11111111111", -2},
		{"empty PAN", []string{"4"}, "bank-c", "", -2},
		{"19-digit PAN", []string{"4", "62212600000-62292599999"}, "", "6229250000000000001", 1},
		{"20-digit PAN", []string{"4"}, "bank-c", "41111111111111111111", -2},
		{"11-digit bounds with leading zeros", []string{"00000000000-09999999999"}, "", "0999999999912345", 0},
		{"no rules, default", nil, "bank-b", "4111111111111111", -1},
		{"no rules", nil, "", "4111111111111111", -2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := mustTable(t, tt.def, tt.bins...)
			m, ok := table.Lookup([]byte(tt.pan))
			switch tt.wantRule {
			case -2:
				assert.False(t, ok)
				assert.Equal(t, Match{}, m)
			case -1:
				require.True(t, ok)
				assert.Equal(t, Match{Issuer: tt.def, IssuerIndex: indexOf(tt.def), Rule: -1}, m)
			default:
				require.True(t, ok)
				issuer := testIssuers[tt.wantRule%3]
				assert.Equal(t, Match{Issuer: issuer, IssuerIndex: indexOf(issuer), Rule: tt.wantRule, BIN: tt.bins[tt.wantRule]}, m)
			}
			// Explain must agree with Lookup.
			e := table.Explain([]byte(tt.pan))
			assert.Equal(t, ok, e.Found)
			assert.Equal(t, m, e.Match)
		})
	}
}

func indexOf(issuer string) int {
	for i, name := range testIssuers {
		if name == issuer {
			return i
		}
	}
	return -1
}

func TestNewTableProblems(t *testing.T) {
	tests := []struct {
		name   string
		routes []Route
		def    string
		want   []string
	}{
		{"empty bin", []Route{{"", "bank-a"}}, "", []string{`routes[0] (bin ""): empty bin`}},
		{"non-digit", []Route{{"4x1", "bank-a"}}, "", []string{`routes[0] (bin "4x1"): not all digits`}},
		{"too long", []Route{{"411111111111", "bank-a"}}, "", []string{`routes[0] (bin "411111111111"): longer than 11 digits`}},
		{"range bound too long", []Route{{"411111111111-411111111112", "bank-a"}}, "",
			[]string{`routes[0] (bin "411111111111-411111111112"): malformed range: low bound: longer than 11 digits`}},
		{"range without high", []Route{{"5-", "bank-a"}}, "", []string{`routes[0] (bin "5-"): malformed range: want "LOW-HIGH"`}},
		{"range without low", []Route{{"-5", "bank-a"}}, "", []string{`routes[0] (bin "-5"): malformed range: want "LOW-HIGH"`}},
		{"range of letters", []Route{{"a-b", "bank-a"}}, "", []string{`routes[0] (bin "a-b"): malformed range: low bound: not all digits`}},
		{"two dashes", []Route{{"1-2-3", "bank-a"}}, "", []string{`routes[0] (bin "1-2-3"): malformed range: high bound: not all digits`}},
		{"unequal bounds", []Route{{"51-5", "bank-a"}}, "", []string{`routes[0] (bin "51-5"): malformed range: bounds must have the same number of digits`}},
		{"inverted", []Route{{"59-51", "bank-a"}}, "", []string{`routes[0] (bin "59-51"): inverted range: low bound is above high bound`}},
		{"duplicate prefix", []Route{{"4111", "bank-a"}, {"4", "bank-a"}, {"4111", "bank-b"}}, "",
			[]string{`routes[2] (bin "4111"): matches exactly the same PANs as routes[0] (bin "4111")`}},
		{"prefix and one-value range", []Route{{"4111-4111", "bank-a"}, {"4111", "bank-b"}}, "",
			[]string{`routes[1] (bin "4111"): matches exactly the same PANs as routes[0] (bin "4111-4111")`}},
		{"ambiguous ranges", []Route{{"5150-5249", "bank-a"}, {"5100-5199", "bank-b"}}, "",
			[]string{`routes[1] (bin "5100-5199"): ambiguous: overlaps routes[0] (bin "5150-5249") with the same length and width, so neither is narrower`}},
		{"touching ranges are fine", []Route{{"5100-5199", "bank-a"}, {"5200-5299", "bank-b"}}, "", nil},
		{"unknown issuer", []Route{{"4", "bank-z"}}, "", []string{`routes[0] (bin "4"): unknown issuer "bank-z"`}},
		{"missing issuer", []Route{{"4", ""}}, "", []string{`routes[0] (bin "4"): issuer is required`}},
		{"unknown default", nil, "bank-z", []string{`default_issuer: unknown issuer "bank-z"`}},
		{"all at once", []Route{{"4x", "bank-z"}, {"5", "bank-a"}, {"5", "bank-a"}}, "nope", []string{
			`routes[0] (bin "4x"): not all digits`,
			`routes[0] (bin "4x"): unknown issuer "bank-z"`,
			`default_issuer: unknown issuer "nope"`,
			`routes[2] (bin "5"): matches exactly the same PANs as routes[1] (bin "5")`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, problems := NewTable(tt.routes, testIssuers, tt.def)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			assert.Equal(t, tt.want, got)
			if tt.want == nil {
				assert.NotNil(t, table)
			} else {
				assert.Nil(t, table)
			}
		})
	}
}

// TestLookupAgainstBruteForce compares the swept segments with a direct
// evaluation of the precedence rules on random nested and overlapping rules.
func TestLookupAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		routes := randomRoutes(rng, 200)
		table, problems := NewTable(routes, testIssuers, "")
		require.Empty(t, problems, "round %d", round)
		for range 500 {
			pan := []byte(fmt.Sprintf("%04d%012d", rng.IntN(10000), rng.Int64N(1e12)))
			m, ok := table.Lookup(pan)
			want := bruteForce(routes, pan)
			if want < 0 {
				require.False(t, ok, "pan %s", pan)
				continue
			}
			require.True(t, ok, "pan %s", pan)
			require.Equal(t, want, m.Rule, "pan %s", pan)
		}
	}
}

// randomRoutes makes n valid rules of lengths 1..4 that nest and overlap,
// skipping any that would conflict with an earlier one.
func randomRoutes(rng *rand.Rand, n int) []Route {
	var routes []Route
	var kept []binRange
	for len(routes) < n {
		length := 1 + rng.IntN(4)
		limit := uint64(1)
		for range length {
			limit *= 10
		}
		lo := rng.Uint64N(limit)
		hi := lo + rng.Uint64N(min(limit-lo, limit/4+1))
		r := binRange{n: length, lo: lo, hi: hi}
		if conflictsWith(r, kept) {
			continue
		}
		kept = append(kept, r)
		bin := fmt.Sprintf("%0*d-%0*d", length, lo, length, hi)
		if lo == hi && rng.IntN(2) == 0 {
			bin = fmt.Sprintf("%0*d", length, lo)
		}
		routes = append(routes, Route{BIN: bin, Issuer: testIssuers[len(routes)%3]})
	}
	return routes
}

func conflictsWith(r binRange, kept []binRange) bool {
	for _, k := range kept {
		if k.n == r.n && k.width() == r.width() && k.lo <= r.hi && r.lo <= k.hi {
			return true
		}
	}
	return false
}

// bruteForce applies "longest bin, then narrowest range" directly.
func bruteForce(routes []Route, pan []byte) int {
	best, bestLen, bestWidth := -1, 0, uint64(0)
	for i, r := range routes {
		br, err := parseBIN(r.BIN)
		if err != nil {
			panic(err)
		}
		v, _ := strconv.ParseUint(string(pan[:br.n]), 10, 64)
		if v < br.lo || v > br.hi {
			continue
		}
		if br.n > bestLen || (br.n == bestLen && br.width() < bestWidth) {
			best, bestLen, bestWidth = i, br.n, br.width()
		}
	}
	return best
}

func TestLookupAllocs(t *testing.T) {
	table := mustTable(t, "bank-c", "4", "400000-400099", "40000012", "510000-559999", "2221-2720")
	for _, pan := range []string{"4000001234567899", "6011000000000004", "4111x", "2223000048410010"} {
		p := []byte(pan)
		allocs := testing.AllocsPerRun(1000, func() { table.Lookup(p) })
		assert.Zero(t, allocs, pan)
	}
}

func TestNilTableLookup(t *testing.T) {
	var table *Table
	_, ok := table.Lookup([]byte("4111111111111111"))
	assert.False(t, ok)
}

func TestTableLen(t *testing.T) {
	assert.Equal(t, 3, mustTable(t, "", "4", "5", "6").Len())
}
