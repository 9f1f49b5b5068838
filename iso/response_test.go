package iso

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBuildResponse(t *testing.T) {
	s := newTestScanner(t)
	var v View
	require.NoError(t, s.Scan([]byte(golden0100), &v))
	resp, err := BuildResponse(Spec87(), &v, "05")
	require.NoError(t, err)

	var rv View
	require.NoError(t, s.Scan(resp, &rv))
	require.Equal(t, "0110", string(rv.MTI()))
	require.Equal(t, "05", string(rv.Field(39)))
	for _, id := range []int{2, 3, 4, 7, 11, 12, 13, 22, 32, 37, 41, 42, 49} {
		require.Equal(t, v.Raw(id), rv.Raw(id), "field %d echoed byte for byte", id)
	}
	for _, id := range []int{14, 35, 52} {
		require.False(t, rv.Has(id), "field %d must not be echoed", id)
	}
}

func TestBuildResponseNetworkManagement(t *testing.T) {
	s := newTestScanner(t)
	var v View
	require.NoError(t, s.Scan([]byte(golden0800), &v))
	resp, err := BuildResponse(Spec87(), &v, "00")
	require.NoError(t, err)
	require.Equal(t, "0810"+"8220000002000000"+"0400000000000000"+"1125175300"+"000124"+"00"+"301", string(resp))
}

// A 30 (format error) answer to a frame that failed to scan echoes what
// was scanned before the bad field.
func TestBuildResponsePartialScan(t *testing.T) {
	s := newTestScanner(t)
	var v View
	frame := replaceOnce(t, golden0100, "0123456789ABCDEF", "0123456789ABCDEG")
	require.Error(t, s.Scan([]byte(frame), &v))
	resp, err := BuildResponse(Spec87(), &v, "30")
	require.NoError(t, err)
	var rv View
	require.NoError(t, s.Scan(resp, &rv))
	require.Equal(t, "TERM0001", string(rv.Field(41)))
	require.Equal(t, "000123", string(rv.Field(11)))
	require.Equal(t, "30", string(rv.Field(39)))
}

func TestBuildResponseErrors(t *testing.T) {
	s := newTestScanner(t)
	var v View
	require.NoError(t, s.Scan([]byte(golden0110), &v))
	_, err := BuildResponse(Spec87(), &v, "00")
	require.EqualError(t, err, "field 0: request has no request MTI")

	require.NoError(t, s.Scan([]byte(golden0100), &v))
	for _, code := range []string{"", "0", "000", "0\xC3"} {
		_, err = BuildResponse(Spec87(), &v, code)
		require.EqualError(t, err, "field 39: response code must be 2 ASCII characters")
	}
}
