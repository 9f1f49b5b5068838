package iso

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpans: a field's Span reads the same bytes as Field, also from a
// copy of the frame, and RoutingPANSpan the same as RoutingPAN, for a PAN
// in field 2 and in track 2 (with and without its sentinel).
func TestSpans(t *testing.T) {
	s := newTestScanner(t)
	for name, fields := range map[string]map[int]string{
		"field 2":           {2: "4111111111111111", 3: "000000", 11: "000001", 37: "000000000001"},
		"track 2":           {35: "4111111111111111=25121010000000000000", 3: "000000", 11: "000002"},
		"track 2, sentinel": {35: ";4000000000000002=2512101", 11: "000003"},
	} {
		t.Run(name, func(t *testing.T) {
			frame := buildMsg(t, "0100", fields)
			var v View
			require.NoError(t, s.Scan(frame, &v))
			cp := append([]byte(nil), frame...)
			for id := 0; id <= 64; id++ {
				if v.Has(id) {
					assert.Equal(t, v.Field(id), v.Span(id).In(cp), "field %d", id)
				} else {
					assert.Equal(t, Span{}, v.Span(id), "field %d", id)
					assert.Nil(t, v.Span(id).In(cp))
				}
			}
			pan, _ := RoutingPAN(&v)
			require.NotNil(t, pan)
			assert.Equal(t, pan, RoutingPANSpan(&v).In(cp))
		})
	}
	var none View
	require.NoError(t, s.Scan(buildMsg(t, "0100", map[int]string{11: "000004"}), &none))
	assert.Equal(t, Span{}, RoutingPANSpan(&none), "no PAN")
}
