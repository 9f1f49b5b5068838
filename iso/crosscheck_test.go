package iso

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
	"github.com/stretchr/testify/require"
)

// randomMessage packs a message with random values: field must is always
// present, each other field with probability 1/4.
func randomMessage(t testing.TB, r *rand.Rand, must int) []byte {
	t.Helper()
	spec := Spec87()
	msg := NewMessage(spec)
	mtis := []string{"0100", "0110", "0200", "0400", "0420", "0800", "0810"}
	msg.MTI(mtis[r.IntN(len(mtis))])
	for id := 2; id <= 128; id++ {
		if id == 65 || (id != must && r.IntN(4) != 0) {
			continue
		}
		require.NoError(t, setRandom(r, msg, id), "field %d", id)
	}
	packed, err := msg.Pack()
	require.NoError(t, err)
	return packed
}

func setRandom(r *rand.Rand, msg *iso8583.Message, id int) error {
	f := msg.GetSpec().Fields[id]
	sp := f.Spec()
	n := sp.Length
	if sp.Pref.Inspect() != "ASCII.Fixed" && r.IntN(8) != 0 {
		n = r.IntN(min(n, 40) + 1) // mostly short, sometimes the maximum
	}
	b := make([]byte, n)
	switch f.(type) {
	case *field.Numeric:
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
	case *field.Hex:
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
	default:
		for i := range b {
			b[i] = byte(r.IntN(128)) // moov's ASCII accepts control characters too
		}
	}
	return msg.BinaryField(id, b)
}

// crossCheck asserts the Scan/Unpack contract on one frame:
//   - Scan succeeds ⇒ Unpack succeeds, same fields, View.Raw == the
//     field's moov packing and View.Field == its data bytes;
//   - Unpack succeeds on a canonical frame (moov repacks it byte for byte)
//     with a numeric MTI and no negative Numeric field ⇒ Scan succeeds.
//
// Scan is deliberately stricter than moov: ISO "n" fields are digits only
// (moov parses a sign: "-12345" even repacks identically), length
// prefixes are digits only, and it rejects trailing bytes, a tertiary
// bitmap and a non-numeric MTI.
func crossCheck(t *testing.T, s *Scanner, frame []byte) {
	var v View
	scanErr := s.Scan(frame, &v)
	msg := NewMessage(Spec87())
	unpackErr := msg.Unpack(frame)
	if scanErr == nil {
		require.NoError(t, unpackErr, "Scan accepted what Unpack rejects")
		compareFields(t, msg, &v)
		sameResponse(t, s, &v)
	}
	if unpackErr == nil && len(frame) >= 4 && allDigits(frame[:4]) && !hasNegative(msg) {
		repacked, err := msg.Pack()
		if err == nil && bytes.Equal(repacked, frame) {
			require.NoError(t, scanErr, "Scan rejected a canonical frame Unpack accepts")
		}
	}
}

// sameResponse: for a request that scans, the copying response builder
// gives moov's bytes whenever moov builds one.
func sameResponse(t *testing.T, s *Scanner, v *View) {
	if !IsRequestMTI(v.MTI()) {
		return
	}
	want, err := BuildResponse(Spec87(), v, "91")
	if err != nil {
		return
	}
	got, err := s.AppendResponse(nil, v, "91")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "AppendResponse differs from BuildResponse")
}

func hasNegative(msg *iso8583.Message) bool {
	for _, f := range msg.GetFields() {
		if n, ok := f.(*field.Numeric); ok && n.Value() < 0 {
			return true
		}
	}
	return false
}

func compareFields(t *testing.T, msg *iso8583.Message, v *View) {
	fields := msg.GetFields()
	for id := 2; id <= maxFieldID; id++ {
		f, ok := fields[id]
		require.Equal(t, ok, v.Has(id), "field %d presence", id)
		if !ok {
			continue
		}
		packed, err := f.Pack()
		require.NoError(t, err, "field %d", id)
		_, prefLen, err := f.Spec().Pref.DecodeLength(f.Spec().Length, packed)
		require.NoError(t, err, "field %d", id)
		raw, data := v.Raw(id), v.Field(id)
		if _, isHex := f.(*field.Hex); isHex {
			// moov repacks hex in upper case; the wire may have had lower case.
			raw, data = bytes.ToUpper(raw), bytes.ToUpper(data)
		}
		require.Equal(t, packed, raw, "field %d raw", id)
		require.Equal(t, packed[prefLen:], data, "field %d data", id)
	}
}

func TestCrossCheckRandomMessages(t *testing.T) {
	s := newTestScanner(t)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		must := 2 + i%127 // every field 2..128 at least once (65 is skipped)
		frame := randomMessage(t, r, must)
		var v View
		require.NoError(t, s.Scan(frame, &v), "message %d", i)
		crossCheck(t, s, frame)
	}
}

// Single-byte mutations and truncations of random messages: a
// deterministic stand-in for FuzzScan in ordinary test runs.
func TestCrossCheckMutations(t *testing.T) {
	s := newTestScanner(t)
	r := rand.New(rand.NewPCG(3, 4))
	interesting := []byte("0123456789+-=ABCDEFabcdefgXZ \x00\x7f\x80\xff")
	for i := range 3000 {
		frame := randomMessage(t, r, 2+i%127)
		switch i % 3 {
		case 0:
			frame = frame[:r.IntN(len(frame)+1)]
		default:
			frame[r.IntN(len(frame))] = interesting[r.IntN(len(interesting))]
		}
		crossCheck(t, s, frame)
	}
}

func TestCrossCheckCorrupt(t *testing.T) {
	s := newTestScanner(t)
	var v View
	for _, tt := range corruptCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, s.Scan([]byte(tt.frame), &v))
			unpackErr := NewMessage(Spec87()).Unpack([]byte(tt.frame))
			if tt.moovAccepts {
				require.NoError(t, unpackErr)
			} else {
				require.Error(t, unpackErr)
			}
			crossCheck(t, s, []byte(tt.frame))
		})
	}
}

func FuzzScan(f *testing.F) {
	for _, gc := range goldenCases {
		f.Add([]byte(gc.wire))
	}
	for _, c := range corruptCases(f) {
		f.Add([]byte(c.frame))
	}
	s := newTestScanner(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		crossCheck(t, s, frame)
	})
}
