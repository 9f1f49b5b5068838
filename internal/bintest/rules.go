// Package bintest makes the large BIN tables that the tests and benchmarks
// of routing and config share. It does not import routing, so that
// routing's own tests can use it.
package bintest

import "fmt"

// Issuers are the issuer names Rules500k routes to.
var Issuers = []string{"bank-a", "bank-b", "bank-c", "bank-d"}

// Rules500k calls add for 500,000 non-conflicting rules in groups of six:
// for each 6-digit base (stepping by 10) one range per length 6..11, each
// nested in the previous one, so lookups have to pick the longest of
// several matches.
func Rules500k(add func(bin, issuer string)) {
	for i := range 500_000 {
		n := 6 + i%6
		lo := uint64(100_000+i/6*10) * Pow10(n-6)
		hi := lo + 9*Pow10(n-6)
		add(fmt.Sprintf("%0*d-%0*d", n, lo, n, hi), Issuers[i%len(Issuers)])
	}
}

// Pow10 is 10^n.
func Pow10(n int) uint64 {
	v := uint64(1)
	for range n {
		v *= 10
	}
	return v
}
