package main

import (
	"testing"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The moov issuer answers as an approving issuer: the response MTI, 39=00,
// an approval code for authorizations, every request field echoed.
func TestMoovAnswer(t *testing.T) {
	spec := iso.Spec87()
	sc, err := iso.NewScanner(spec)
	require.NoError(t, err)
	for mti, want := range map[string]string{"0100": "0110", "0200": "0210", "0800": "0810", "0420": "0430"} {
		m := iso8583.NewMessage(spec)
		m.MTI(mti)
		require.NoError(t, m.Field(11, "000042"))
		require.NoError(t, m.Field(7, "1207120000"))
		frame, err := m.Pack()
		require.NoError(t, err)

		resp, err := moovAnswer(spec, frame)
		require.NoError(t, err)
		r := iso8583.NewMessage(spec)
		require.NoError(t, r.Unpack(resp))
		got, _ := r.GetMTI()
		assert.Equal(t, want, got)
		code, _ := r.GetString(39)
		assert.Equal(t, "00", code)
		var v iso.View
		require.NoError(t, sc.Scan(resp, &v))
		assert.Equal(t, "000042", string(v.Field(11)), "the STAN as it was on the wire")
		approval, _ := r.GetString(38)
		assert.Equal(t, mti[1] == '1' || mti[1] == '2', approval != "", mti)
	}
	_, err = moovAnswer(spec, []byte("garbage"))
	assert.Error(t, err)
}
