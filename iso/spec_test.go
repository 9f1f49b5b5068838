package iso

import (
	"testing"

	"github.com/moov-io/iso8583/field"
	"github.com/stretchr/testify/require"
)

func TestSpec87Complete(t *testing.T) {
	spec := Spec87()
	require.Same(t, spec, Spec87(), "loaded once")
	for id := 0; id <= 128; id++ {
		require.Contains(t, spec.Fields, id, "field %d", id)
	}
	require.Len(t, spec.Fields, 129)
	require.IsType(t, &field.Bitmap{}, spec.Fields[1])
	require.Equal(t, 8, spec.Fields[1].Spec().Length)
}

func TestSpec87FieldFormats(t *testing.T) {
	spec := Spec87()
	tests := []struct {
		id     int
		typ    field.Field
		length int
		prefix string
	}{
		{2, &field.String{}, 19, "ASCII.LL"},
		{3, &field.Numeric{}, 6, "ASCII.Fixed"},
		{4, &field.Numeric{}, 12, "ASCII.Fixed"},
		{32, &field.String{}, 11, "ASCII.LL"},
		{35, &field.String{}, 37, "ASCII.LL"},
		{36, &field.String{}, 104, "ASCII.LLL"},
		{43, &field.String{}, 40, "ASCII.Fixed"},
		{52, &field.Hex{}, 8, "ASCII.Fixed"},
		{55, &field.String{}, 999, "ASCII.LLL"},
		{70, &field.Numeric{}, 3, "ASCII.Fixed"},
		{90, &field.String{}, 42, "ASCII.Fixed"},
		{100, &field.String{}, 11, "ASCII.LL"},
		{128, &field.Hex{}, 8, "ASCII.Fixed"},
	}
	for _, tt := range tests {
		f := spec.Fields[tt.id]
		require.IsType(t, tt.typ, f, "field %d", tt.id)
		require.Equal(t, tt.length, f.Spec().Length, "field %d", tt.id)
		require.Equal(t, tt.prefix, f.Spec().Pref.Inspect(), "field %d", tt.id)
	}
}

func TestLoadSpecErrors(t *testing.T) {
	_, err := LoadSpec("nope.json")
	require.ErrorContains(t, err, `iso: reading spec "nope.json"`)
}

// Amounts and processing codes must come out exactly as sent.
func TestSpec87KeepsLeadingZeros(t *testing.T) {
	msg := NewMessage(Spec87())
	msg.MTI("0200")
	require.NoError(t, msg.Field(3, "000000"))
	require.NoError(t, msg.Field(4, "000000001000"))
	require.NoError(t, msg.Field(32, "000123"))
	require.NoError(t, msg.BinaryField(52, []byte{0, 1, 2, 3, 4, 5, 6, 7}))
	packed, err := msg.Pack()
	require.NoError(t, err)
	require.Equal(t, "0200"+"3000000100001000"+"000000"+"000000001000"+"06000123"+"0001020304050607", string(packed))
}
