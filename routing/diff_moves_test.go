package routing

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDiffMovesAgainstLookup checks Moves against brute force on random
// tables: every 4-digit PAN whose Lookup changes is in exactly one move,
// with the issuers it moves between, and no other PAN is in any: the PANs
// no rule matches in the default_issuer move, the others in the span
// that holds their first Digits digits.
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
			covered := false
			for n := 1; n <= 4; n++ {
				covered = covered || old.coveredAt(n, pan) || new.coveredAt(n, pan)
			}
			var got []Move
			for _, m := range moves {
				if m.Digits == 0 && !covered || m.Digits > 0 && m.From <= string(pan[:m.Digits]) && string(pan[:m.Digits]) <= m.To {
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

// TestDiffMovesExactSpan: when a longer rule keeps part of a prefix on its
// issuer, only the rest of the prefix moves, named in as few digits as
// state it exactly and no fewer than the rule that decides it.
func TestDiffMovesExactSpan(t *testing.T) {
	table := func(def string, routes ...Route) *Table {
		tb, problems := NewTable(routes, []string{"z", "y"}, def)
		require.Empty(t, problems)
		return tb
	}
	tests := []struct {
		name     string
		old, new *Table
		want     []string
	}{
		{"part of 5 keeps its issuer", table("", Route{BIN: "5", Issuer: "z"}, Route{BIN: "512345", Issuer: "z"}),
			table("", Route{BIN: "512345", Issuer: "z"}),
			[]string{"500000-512344 z->", "512346-599999 z->"}},
		{"whole blocks in fewer digits", table("", Route{BIN: "5", Issuer: "z"}, Route{BIN: "51", Issuer: "y"}),
			table("", Route{BIN: "51", Issuer: "y"}),
			[]string{"50-50 z->", "52-59 z->"}},
		{"six-digit rule stays six digits", table("", Route{BIN: "400000-499999", Issuer: "z"}),
			table("", Route{BIN: "400000-499999", Issuer: "z"}, Route{BIN: "410000-419999", Issuer: "y"}),
			[]string{"410000-419999 z->y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range Moves(tt.old, tt.new) {
				got = append(got, m.Span()+" "+m.FromIssuer+"->"+m.ToIssuer)
			}
			require.Equal(t, tt.want, got)
		})
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
