package record

import (
	"testing"

	"github.com/cardswitch/cardswitch/replay/trace"
	"github.com/stretchr/testify/assert"
)

// A PAN too short to get a distinct stand-in is dropped, never recorded:
// with 7 digits only the check digit could change, and a Luhn-valid PAN
// has exactly one.
func TestNoStandInIsNeverTheRealPAN(t *testing.T) {
	m := newPANMap()
	short := trace.LuhnComplete("424242", 7, nil)
	assert.Equal(t, "", m.replace(short))

	full := "4111111111111111"
	r := m.replace(full)
	assert.NotEqual(t, full, r)
	assert.Len(t, r, len(full))
	assert.Equal(t, r, m.replace(full), "the same card keeps its stand-in")
}
