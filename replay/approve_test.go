package replay

import (
	"testing"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/require"
)

// The approving echo's in-place edit must produce what moov would pack:
// the same fields plus 38 and 39.
func TestApproverAddsApproval(t *testing.T) {
	req := iso.NewMessage(iso.Spec87())
	req.MTI("0100")
	for id, v := range map[int]string{2: "4111111111111111", 3: "000000", 4: "000000001000", 7: "0101120000",
		11: "000123", 37: "000000000123", 41: "TERM0001", 49: "840"} {
		require.NoError(t, req.Field(id, v))
	}
	frame, err := req.Pack()
	require.NoError(t, err)

	a, err := newApprover()
	require.NoError(t, err)
	resp := a.answer(append([]byte(nil), frame...))

	got := iso8583.NewMessage(iso.Spec87())
	require.NoError(t, got.Unpack(resp))
	mti, _ := got.GetMTI()
	require.Equal(t, "0110", mti)
	for id, want := range map[int]string{2: "4111111111111111", 11: "123" /* numeric: moov strips the padding */, 37: "000000000123",
		38: "000001", 39: "00", 41: "TERM0001", 49: "840"} {
		s, err := got.GetString(id)
		require.NoError(t, err, "field %d", id)
		require.Equal(t, want, s, "field %d", id)
	}
}
