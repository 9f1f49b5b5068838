package routing

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDiffMovesAgainstLookup checks Moves against brute force on random
// tables: for every 4-digit PAN, the move at the longest level where a
// rule of either table matches tells exactly how its Lookup changes.
func TestDiffMovesAgainstLookup(t *testing.T) {
	issuers := []string{"bank-a", "bank-b", "bank-c"}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 100 {
		old, new := randomTable(t, rng, issuers), randomTable(t, rng, issuers)
		moves := Moves(old, new)
		for v := range 10000 {
			pan := []byte(fmt.Sprintf("%04d", v))
			mo, _ := old.Lookup(pan)
			mn, _ := new.Lookup(pan)
			depth := 0
			for n := 1; n <= 4; n++ {
				if old.coveredAt(n, pan) || new.coveredAt(n, pan) {
					depth = n
				}
			}
			var got []Move
			for _, m := range moves {
				if m.Digits == depth && (depth == 0 || m.From <= string(pan[:depth]) && string(pan[:depth]) <= m.To) {
					got = append(got, m)
				}
			}
			if mo.Issuer == mn.Issuer {
				require.Empty(t, got, "round %d pan %s", round, pan)
				continue
			}
			require.Len(t, got, 1, "round %d pan %s", round, pan)
			require.Equal(t, [2]string{mo.Issuer, mn.Issuer}, [2]string{got[0].FromIssuer, got[0].ToIssuer}, "round %d pan %s", round, pan)
		}
	}
}

func (t *Table) coveredAt(n int, pan []byte) bool {
	lv := t.level(n)
	return lv != nil && lv.find(digitsValue(pan[:n])) >= 0
}

// randomTable makes a few non-conflicting rules of 1..4 digits.
func randomTable(t *testing.T, rng *rand.Rand, issuers []string) *Table {
	for {
		var routes []Route
		for range rng.IntN(8) {
			n := 1 + rng.IntN(4)
			lo := rng.Uint64N(pow10(n))
			bin := digits(n, lo)
			if rng.IntN(2) == 0 {
				bin += "-" + digits(n, min(pow10(n)-1, lo+rng.Uint64N(pow10(n)/3+1)))
			}
			routes = append(routes, Route{BIN: bin, Issuer: issuers[rng.IntN(len(issuers))]})
		}
		def := ""
		if rng.IntN(3) == 0 {
			def = issuers[rng.IntN(len(issuers))]
		}
		if table, problems := NewTable(routes, issuers, def); len(problems) == 0 {
			return table
		}
	}
}
