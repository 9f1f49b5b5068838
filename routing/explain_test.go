package routing

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExplain(t *testing.T) {
	// route i -> testIssuers[i%3]: bank-a, bank-b, bank-c, bank-a, ...
	table := mustTable(t, "", "4", "400000-400099", "40000012", "400-409", "40000000-40000099")
	e := table.Explain([]byte("4000001234567899"))
	assert.Equal(t, "400000******7899", e.PAN)
	assert.True(t, e.Found)
	assert.Equal(t, Match{Issuer: "bank-c", IssuerIndex: 2, Rule: 2, BIN: "40000012"}, e.Match)
	assert.Equal(t, "longest match", e.Reason)
	assert.Equal(t, []Candidate{
		{Rule: 2, BIN: "40000012", Issuer: "bank-c"},
		{Rule: 4, BIN: "40000000-40000099", Issuer: "bank-b", Lost: "wider range"},
		{Rule: 1, BIN: "400000-400099", Issuer: "bank-b", Lost: "shorter range"},
		{Rule: 3, BIN: "400-409", Issuer: "bank-a", Lost: "shorter range"},
		{Rule: 0, BIN: "4", Issuer: "bank-a", Lost: "shorter prefix"},
	}, e.Candidates)
	assert.Equal(t, `400000******7899 -> bank-c (longest match)
  routes[2] bin "40000012" -> bank-c: wins
  routes[4] bin "40000000-40000099" -> bank-b: loses: wider range
  routes[1] bin "400000-400099" -> bank-b: loses: shorter range
  routes[3] bin "400-409" -> bank-a: loses: shorter range
  routes[0] bin "4" -> bank-a: loses: shorter prefix
`, e.String())
}

func TestExplainOutcomes(t *testing.T) {
	tests := []struct {
		name, def, pan, want string
	}{
		{"only match", "", "4111111111111111", "411111******1111 -> bank-a (only match)\n  routes[0] bin \"4\" -> bank-a: wins\n"},
		{"default", "bank-b", "6011000000000004", "601100******0004 -> bank-b (no rule matched: default_issuer)\n"},
		{"no match", "", "6011000000000004", "601100******0004 -> no issuer (no rule matched and no default_issuer)\n"},
		{"bad PAN, masked", "bank-b", "4111-1111-1111-1111", "4111?1*********1111 -> no issuer (PAN is not 1..19 digits)\n"},
		{"short PAN, masked", "", "4111111", "******* -> bank-a (only match)\n  routes[0] bin \"4\" -> bank-a: wins\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := mustTable(t, tt.def, "4")
			assert.Equal(t, tt.want, table.Explain([]byte(tt.pan)).String())
		})
	}
}

func TestExplainNilTable(t *testing.T) {
	var table *Table
	assert.Equal(t, "411111******1111 -> no issuer (no routing table)\n", table.Explain([]byte("4111111111111111")).String())
}
