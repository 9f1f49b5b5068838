package routing

import (
	panmask "github.com/cardswitch/cardswitch/internal/pan"
	"strconv"
	"testing"

	"github.com/cardswitch/cardswitch/internal/bintest"
)

// rules500k is bintest.Rules500k as a routing table's input.
func rules500k() ([]Route, []string) {
	routes := make([]Route, 0, 500_000)
	bintest.Rules500k(func(bin, issuer string) { routes = append(routes, Route{BIN: bin, Issuer: issuer}) })
	return routes, bintest.Issuers
}

func pow10(n int) uint64 { return bintest.Pow10(n) }

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
