package iso

import (
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
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

// TestAppendResponseMatchesBuildResponse: the copying builder gives the
// moov builder's bytes, for every golden request and generated ones with
// every echo field, each code the switch answers with, and a partial
// scan.
func TestAppendResponseMatchesBuildResponse(t *testing.T) {
	s := newTestScanner(t)
	frames := [][]byte{[]byte(golden0100), []byte(golden0800)}
	for _, fields := range []map[int]string{
		{0: "0200", 2: "4111111111111111", 3: "000000", 4: "000000001000", 7: "1125175300", 11: "000001",
			12: "175300", 13: "1125", 18: "5411", 22: "051", 25: "00", 32: "123456", 33: "654321",
			37: "000000000001", 41: "TERM0001", 42: "MERCHANT0000001", 49: "840",
			90: "010000000111251753000000000000000000000000", 95: "000000000500000000000000000000000000000000"},
		{0: "0420", 2: "5500000000000004", 3: "000000", 4: "000000000100", 11: "000002", 35: "5500000000000004=2512",
			52: "\x01\x23\x45\x67\x89\xAB\xCD\xEF", 70: "301"},
		{0: "0100", 3: "000000", 39: "00"},
	} {
		m := NewMessage(Spec87())
		for id, val := range fields {
			if id == 0 {
				m.MTI(val)
				continue
			}
			require.NoError(t, m.Field(id, val), "field %d", id)
		}
		frame, err := m.Pack()
		require.NoError(t, err)
		frames = append(frames, frame)
	}
	for i, frame := range frames {
		var v View
		require.NoError(t, s.Scan(frame, &v), "frame %d", i)
		for _, code := range []string{"00", "05", "15", "30", "58", "91", "94", "96"} {
			want, err := BuildResponse(Spec87(), &v, code)
			require.NoError(t, err)
			got, err := s.AppendResponse(nil, &v, code)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "frame %d, code %s", i, code)
		}
	}

	var v View
	bad := []byte(golden0100)
	bad[len(bad)-1] = 0xff // the last field no longer scans
	_ = s.ScanLenient(bad, &v)
	want, err := BuildResponse(Spec87(), &v, "30")
	require.NoError(t, err)
	got, err := s.AppendResponse([]byte("prefix"), &v, "30")
	require.NoError(t, err)
	require.Equal(t, "prefix"+string(want), string(got), "partial scan, appended to dst")

	_, err = s.AppendResponse(nil, &v, "300")
	require.Error(t, err)
}

// TestAppendResponseBinaryBitmap: with a binary bitmap (8 bytes per
// bitmap) the copying builder still gives moov's bytes.
func TestAppendResponseBinaryBitmap(t *testing.T) {
	base := Spec87()
	spec := &iso8583.MessageSpec{Name: "binary bitmap", Fields: map[int]field.Field{}}
	for id, f := range base.Fields {
		spec.Fields[id] = f
	}
	spec.Fields[1] = field.NewBitmap(&field.Spec{Length: 8, Description: "Bitmap",
		Enc: encoding.Binary, Pref: prefix.Binary.Fixed})
	s, err := NewScanner(spec)
	require.NoError(t, err)
	m := iso8583.NewMessage(spec)
	m.MTI("0100")
	for id, val := range map[int]string{2: "4111111111111111", 3: "000000", 4: "000000001000", 11: "000001", 70: "301"} {
		require.NoError(t, m.Field(id, val))
	}
	frame, err := m.Pack()
	require.NoError(t, err)
	var v View
	require.NoError(t, s.Scan(frame, &v))
	want, err := BuildResponse(spec, &v, "91")
	require.NoError(t, err)
	got, err := s.AppendResponse(nil, &v, "91")
	require.NoError(t, err)
	require.Equal(t, want, got)
}
