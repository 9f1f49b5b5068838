package iso

import (
	"bytes"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/stretchr/testify/require"
)

// jPOS packs an odd-length track 2 right-padded with a 0 nibble, '=' as D.
func TestTrack2BCDOddLength(t *testing.T) {
	b, err := Track2BCD.Encode([]byte("4012=2712"))
	require.NoError(t, err)
	require.Equal(t, "4012d27120", hex.EncodeToString(b))
	got, read, err := Track2BCD.Decode(b, 9)
	require.NoError(t, err)
	require.Equal(t, 5, read)
	require.Equal(t, "4012=2712", string(got))
	_, err = Track2BCD.Encode([]byte("40A2"))
	require.Error(t, err)
	_, _, err = Track2BCD.Decode([]byte{0x4E}, 2)
	require.Error(t, err)
	_, _, err = Track2BCD.Decode([]byte{0x40}, 3)
	require.Error(t, err)
}

// jPOS's IFB_AMOUNT: the sign as a character, the digits as BCD.
func TestSignBCD(t *testing.T) {
	b, err := SignBCD.Encode([]byte("C00001234"))
	require.NoError(t, err)
	require.Equal(t, "4300001234", hex.EncodeToString(b))
	got, read, err := SignBCD.Decode(b, 9)
	require.NoError(t, err)
	require.Equal(t, 5, read)
	require.Equal(t, "C00001234", string(got))
	e, err := EBCDICSignBCD.Encode([]byte("D00000001"))
	require.NoError(t, err)
	require.Equal(t, "c400000001", hex.EncodeToString(e))
}

// iso87ebcdic has no jPOS frames: it must be iso87binary's layout with
// only the text in EBCDIC, and read back what it wrote.
func TestISO87EBCDICIsBinaryLayoutWithEBCDICText(t *testing.T) {
	frames := readJPOSFrames(t)
	for _, f := range frames {
		if f.Dialect != "iso87binary" {
			continue
		}
		spec := goldenDialectSpec(t, "iso87ebcdic")
		msg := iso8583.NewMessage(spec)
		for _, id := range sortedIDs(f.Fields) {
			require.NoError(t, setJPOSField(msg, id, f), "%s field %d", f.Name, id)
		}
		packed, err := msg.Pack()
		require.NoError(t, err)
		jpos, _ := hex.DecodeString(f.Hex)
		require.Len(t, packed, len(jpos), f.Name)
		if v, ok := f.Fields["41"]; ok {
			want, _ := encoding.EBCDIC.Encode([]byte(v))
			require.True(t, bytes.Contains(packed, want), "%s: field 41 in EBCDIC", f.Name)
			require.False(t, bytes.Contains(packed, []byte(v)), "%s: field 41 not in ASCII", f.Name)
		}
		back := iso8583.NewMessage(spec)
		require.NoError(t, back.Unpack(packed), f.Name)
		for _, id := range sortedIDs(f.Fields) {
			require.Equal(t, f.Fields[strconv.Itoa(id)], jposValue(t, back, id, f), "%s field %d", f.Name, id)
		}
	}
}
