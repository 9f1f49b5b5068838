package iso

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCopyRunChecksEachClass: fields copied as one run (27 numeric, 37 and
// 42 text, 67 numeric: the same fixed ASCII layout in iso87ascii and
// iso93ascii, adjacent once the fields between are absent) are each
// checked against their own byte class. A valid message is translated by
// the plan's walk, both ways, as the value path translates it; a letter in
// 27 or a byte above 0x7F in 42 makes the walk decline and the
// translation fail, as it does field by field.
func TestCopyRunChecksEachClass(t *testing.T) {
	tr := translatorFor(t, "iso93ascii")
	fields := map[int]string{2: "4761739001010010", 3: "000000", 27: "1", 37: "ABC123456789",
		42: "MERCHANT0000001", 67: "12"}
	canon := canonMsg(t, "0100", fields)
	wire := runDirect(t, tr, canon, false)
	require.Equal(t, canon, runDirect(t, tr, wire, true), "back to the canonical form")
	sc, err := NewScanner(Spec87())
	require.NoError(t, err)

	for _, bad := range []struct {
		field int
		value string
	}{{27, "A"}, {67, "1A"}, {37, "ABC12345678\x80"}, {42, "MERCHANT000000\xff"}} {
		// bytes moov would not pack: put in place of a valid value of the same length
		msg := bytes.Clone(canon)
		var v View
		require.NoError(t, sc.Scan(msg, &v))
		copy(msg[v.Offset(bad.field):], bad.value)
		st := &xstate{buf: make([]byte, 0, 4096)}
		_, ok := tr.direct(st, nil, msg, nil, false)
		require.False(t, ok, "field %d %q: the walk must decline", bad.field, bad.value)
		_, err := tr.FromCanon(nil, msg, nil)
		require.Error(t, err, "field %d %q", bad.field, bad.value)
	}
}

// runDirect translates msg with the plan's walk, which must not decline,
// and holds it to the value path.
func runDirect(t *testing.T, tr *Translator, msg []byte, toCanon bool) []byte {
	t.Helper()
	st := &xstate{buf: make([]byte, 0, 4096)}
	out, ok := tr.direct(st, nil, msg, nil, toCanon)
	require.True(t, ok, "the walk declined %x", msg)
	want, err := tr.fast(&xstate{buf: make([]byte, 0, 16)}, nil, msg, nil, toCanon)
	require.NoError(t, err)
	require.Equal(t, want, out)
	return out
}
