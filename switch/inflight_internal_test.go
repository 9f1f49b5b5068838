package switchd

import (
	"testing"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInFlightRecordKeepsCardDataOut: a field the entry's columns do not
// hold (42 here) is left out of the in-flight record, which the log keeps
// in clear, when it carries the card's digits; a clean one is kept.
func TestInFlightRecordKeepsCardDataOut(t *testing.T) {
	sc, err := iso.NewScanner(iso.Spec87())
	require.NoError(t, err)
	for _, tc := range []struct {
		name, f42 string
		kept      bool
	}{
		{"clean merchant id", "MERCHANT0000001", true},
		{"card digits in 42", "411111111234567", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := iso.NewMessage(iso.Spec87())
			m.MTI("0100")
			for id, val := range map[int]string{2: "4111111111234567", 3: "000000", 4: "000000001000",
				7: "1207101010", 11: "000123", 37: "000000000123", 41: "TERM0001", 42: tc.f42, 49: "978"} {
				require.NoError(t, m.Field(id, val))
			}
			frame, err := m.Pack()
			require.NoError(t, err)
			var v iso.View
			require.NoError(t, sc.Scan(frame, &v))
			var s journal.Sent
			fillSent(&s, &v)
			assert.Equal(t, "000000001000", string(s.Field(4)))
			assert.Equal(t, "000123", string(s.Field(11)))
			if tc.kept {
				assert.Equal(t, tc.f42, string(s.Field(42)))
			} else {
				assert.Nil(t, s.Field(42))
			}
		})
	}
}
