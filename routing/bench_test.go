package routing

import (
	"fmt"
	panmask "github.com/cardswitch/cardswitch/internal/pan"
	"strconv"
	"testing"
)

// rules500k makes 500,000 non-conflicting rules in groups of six: for each
// 6-digit base (stepping by 10) one range per length 6..11, each nested in
// the previous one, so lookups have to pick the longest of several matches.
func rules500k() ([]Route, []string) {
	issuers := []string{"bank-a", "bank-b", "bank-c", "bank-d"}
	routes := make([]Route, 0, 500_000)
	for i := 0; len(routes) < 500_000; i++ {
		n := 6 + i%6
		lo := uint64(100_000+i/6*10) * pow10(n-6)
		hi := lo + 9*pow10(n-6)
		routes = append(routes, Route{
			BIN:    fmt.Sprintf("%0*d-%0*d", n, lo, n, hi),
			Issuer: issuers[i%len(issuers)],
		})
	}
	return routes, issuers
}

func pow10(n int) uint64 {
	v := uint64(1)
	for range n {
		v *= 10
	}
	return v
}

func benchLookup(b *testing.B, table *Table, pans [][]byte) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		table.Lookup(pans[i%len(pans)])
	}
}

func samplePANs(routes []Route, n int) [][]byte {
	pans := make([][]byte, 0, n)
	for i := range n {
		r := routes[(i*7919)%len(routes)]
		lo, _, _ := cutRange(r.BIN)
		pan := lo + "5555555555555555555"
		pans = append(pans, []byte(pan[:16]))
	}
	return pans
}

func cutRange(bin string) (string, string, bool) {
	for i := range len(bin) {
		if bin[i] == '-' {
			return bin[:i], bin[i+1:], true
		}
	}
	return bin, bin, false
}

func BenchmarkLookup10Rules(b *testing.B) {
	bins := []string{"4", "400000-400099", "40000012", "510000-559999", "510510",
		"555000-555999", "2221-2720", "34", "37", "6011"}
	routes := make([]Route, len(bins))
	for i, bin := range bins {
		routes[i] = Route{BIN: bin, Issuer: testIssuers[i%3]}
	}
	table, problems := NewTable(routes, testIssuers, "bank-a")
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	pans := [][]byte{[]byte("4000001234567899"), []byte("5555555555554444"), []byte("6011000000000004"), []byte("9999999999999999")}
	benchLookup(b, table, pans)
}

func BenchmarkLookup500kRules(b *testing.B) {
	routes, issuers := rules500k()
	table, problems := NewTable(routes, issuers, "")
	if len(problems) > 0 {
		b.Fatal(problems[0])
	}
	benchLookup(b, table, samplePANs(routes, 4096))
}

func BenchmarkBuild500kRules(b *testing.B) {
	routes, issuers := rules500k()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, problems := NewTable(routes, issuers, ""); len(problems) > 0 {
			b.Fatal(problems[0])
		}
	}
	b.ReportMetric(float64(len(routes)), "rules")
}

// TestRules500kValid keeps the benchmark generator honest: its rules must
// build, and lookups of its sample PANs must hit a rule.
func TestRules500kValid(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 500,000 rules")
	}
	routes, issuers := rules500k()
	table, problems := NewTable(routes, issuers, "")
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	for _, pan := range samplePANs(routes, 100) {
		if _, ok := table.Lookup(pan); !ok {
			t.Fatalf("no match for %s", strconv.Quote(panmask.Mask(pan)))
		}
	}
}
