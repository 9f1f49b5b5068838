package iso

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

var allLengths = []LengthFraming{LengthBinary2, LengthBinary2Inclusive, LengthBCD2, LengthASCII4, LengthBinary4, LengthNone}

func allHeaders() []Framing {
	return []Framing{{Header: HeaderNone}, {Header: HeaderTPDU}, {Header: HeaderFixed, Fixed: []byte("ISO026000050")}}
}

// The length header of a 300-byte frame in every framing.
func TestLengthFramingBytes(t *testing.T) {
	want := map[LengthFraming]string{
		LengthBinary2: "012c", LengthBinary2Inclusive: "012e", LengthBCD2: "0300",
		LengthASCII4: "30333030", LengthBinary4: "0000012c", LengthNone: "",
	}
	for _, l := range allLengths {
		got, err := l.AppendLength(nil, 300)
		require.NoError(t, err, l.String())
		require.Equal(t, want[l], hex.EncodeToString(got), l.String())
		parsed, err := l.ParseLength(append(got, 0, 0, 0, 0))
		require.NoError(t, err)
		if l != LengthNone {
			require.Equal(t, 300, parsed, l.String())
		}
		back, err := ParseLengthFraming(l.String())
		require.NoError(t, err)
		require.Equal(t, l, back)
	}
	_, err := ParseLengthFraming("ascii2")
	require.Error(t, err)
}

func TestFramedRoundTripEveryFraming(t *testing.T) {
	tpdu := []byte{0x60, 0x00, 0x01, 0x00, 0x02}
	for _, l := range allLengths {
		for _, f := range allHeaders() {
			f.Length = l
			t.Run(l.String()+"/"+f.HeaderName(), func(t *testing.T) {
				hdr := f.Fixed
				if f.Header == HeaderTPDU {
					hdr = tpdu
				}
				msgs := []string{golden0100, "", golden0800}
				if l == LengthNone {
					msgs = msgs[:1] // one read is one message
				}
				var stream []byte
				for _, m := range msgs {
					var err error
					stream, err = f.AppendFrame(stream, hdr, []byte(m))
					require.NoError(t, err)
				}
				var w bytes.Buffer
				require.NoError(t, f.WriteFramed(&w, hdr, []byte(msgs[0])))
				require.Equal(t, stream[:w.Len()], w.Bytes())
				var r io.Reader = iotest.OneByteReader(bytes.NewReader(stream))
				if l == LengthNone {
					r = bytes.NewReader(stream)
				}
				fr := NewFramedReader(r, f, 0)
				for _, m := range msgs {
					gh, gm, err := fr.Next()
					require.NoError(t, err)
					require.Equal(t, hdr, nilIfEmpty(gh))
					require.Equal(t, m, string(gm))
				}
				_, _, err := fr.Next()
				require.ErrorIs(t, err, io.EOF)
			})
		}
	}
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Today's FrameReader and a binary2 FramedReader read the same frames.
func TestFramedBinary2IsTodaysFraming(t *testing.T) {
	stream := frames(golden0100, golden0800)
	fr := NewFramedReader(bytes.NewReader(stream), Framing{Length: LengthBinary2}, 0)
	for _, want := range []string{golden0100, golden0800} {
		_, got, err := fr.Next()
		require.NoError(t, err)
		require.Equal(t, want, string(got))
	}
}

func TestFramedReaderHostile(t *testing.T) {
	tpdu := Framing{Length: LengthBinary2, Header: HeaderTPDU}
	fixed := Framing{Length: LengthASCII4, Header: HeaderFixed, Fixed: []byte("ISO0260000")}
	tests := []struct {
		name          string
		f             Framing
		stream        []byte
		max           int
		framing, rule string
	}{
		{"ascii4 non-digit", Framing{Length: LengthASCII4}, []byte("00A5hello"), 0, "ascii4", "non-digit in the length"},
		{"ascii4 sign", Framing{Length: LengthASCII4}, []byte("-005hello"), 0, "ascii4", "non-digit in the length"},
		{"bcd2 high nibble", Framing{Length: LengthBCD2}, []byte{0xA0, 0x05, 'h'}, 0, "bcd2", "nibble above 9 in the length"},
		{"bcd2 low nibble", Framing{Length: LengthBCD2}, []byte{0x00, 0x0F, 'h'}, 0, "bcd2", "nibble above 9 in the length"},
		{"tpdu shorter than header", tpdu, []byte{0, 3, 0x60, 0, 1}, 0, "tpdu", "frame shorter than its header"},
		{"tpdu bad id", tpdu, []byte{0, 6, 0x61, 0, 1, 0, 2, 'x'}, 0, "tpdu", "TPDU ID is not 0x60"},
		{"hex header shorter", fixed, []byte("0004ISO0"), 0, "hex header", "frame shorter than its header"},
		{"inclusive below 2", Framing{Length: LengthBinary2Inclusive}, []byte{0, 1}, 0, "binary2-inclusive", "length below 2, the size of the length itself"},
		{"binary2 above max", Framing{Length: LengthBinary2}, []byte{0x20, 0x01, 'x'}, 0, "binary2", ruleTooLarge},
		{"ascii4 above max", Framing{Length: LengthASCII4}, []byte("0005hello"), 4, "ascii4", ruleTooLarge},
		{"bcd2 above max", Framing{Length: LengthBCD2}, []byte{0x99, 0x99}, 0, "bcd2", ruleTooLarge},
		{"binary4 above max", Framing{Length: LengthBinary4}, []byte{0xFF, 0, 0, 0}, 0, "binary4", ruleTooLarge},
		{"none above max", Framing{Length: LengthNone}, []byte("hello"), 4, "none", ruleTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewFramedReader(bytes.NewReader(tt.stream), tt.f, tt.max).Next()
			var fe *FramingError
			require.True(t, errors.As(err, &fe), "%v", err)
			require.Equal(t, tt.framing, fe.Framing)
			require.Equal(t, tt.rule, fe.Rule)
			require.Equal(t, tt.rule == ruleTooLarge, errors.Is(err, ErrFrameTooLarge))
			require.NotContains(t, err.Error(), "hello")
		})
	}
}

func TestFramedReaderTruncated(t *testing.T) {
	for _, l := range allLengths[:5] {
		f := Framing{Length: l}
		whole, err := f.AppendFrame(nil, nil, []byte(golden0800))
		require.NoError(t, err)
		for _, cut := range []int{1, l.Size(), len(whole) - 1} {
			_, _, err := NewFramedReader(bytes.NewReader(whole[:cut]), f, 0).Next()
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "%s cut at %d", l, cut)
		}
	}
}

func TestFramedWriterRefuses(t *testing.T) {
	_, err := Framing{Length: LengthASCII4}.AppendFrame(nil, nil, make([]byte, 10000))
	require.ErrorIs(t, err, ErrFrameTooLarge)
	_, err = Framing{Length: LengthBinary2, Header: HeaderTPDU}.AppendFrame(nil, []byte{0x60}, nil)
	var fe *FramingError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, "tpdu", fe.Framing)
}

func TestAnswerTPDUSwapsNII(t *testing.T) {
	var ans [TPDULen]byte
	AnswerTPDU(ans[:], []byte{0x60, 0x00, 0x01, 0x00, 0x02})
	require.Equal(t, []byte{0x60, 0x00, 0x02, 0x00, 0x01}, ans[:])
}

func TestParseHeader(t *testing.T) {
	for in, want := range map[string]HeaderKind{"": HeaderNone, "tpdu": HeaderTPDU, "hex:49534F": HeaderFixed} {
		k, b, err := ParseHeader(in)
		require.NoError(t, err)
		require.Equal(t, want, k)
		require.Equal(t, in, Framing{Header: k, Fixed: b}.HeaderString())
	}
	for _, bad := range []string{"hex:", "hex:4", "hex:zz", "TPDU", "iso"} {
		_, _, err := ParseHeader(bad)
		require.Error(t, err, bad)
	}
}

// The framed reader keeps FrameReader's design: a frame is a view into
// the reader's buffer, and reading one does not allocate.
func TestFramedReaderDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are asserted without -race (.ci/run)")
	}
	f := Framing{Length: LengthASCII4, Header: HeaderTPDU}
	one, err := f.AppendFrame(nil, []byte{0x60, 0, 1, 0, 2}, []byte(golden0100))
	require.NoError(t, err)
	stream := bytes.Repeat(one, 200)
	r := bytes.NewReader(stream)
	fr := NewFramedReader(r, f, 0)
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := fr.Next(); err != nil {
			panic(err)
		}
	})
	require.Zero(t, allocs)
	var w bytes.Buffer
	w.Grow(len(one) * 200)
	allocs = testing.AllocsPerRun(100, func() { _ = f.WriteFramed(&w, []byte{0x60, 0, 1, 0, 2}, []byte(golden0100)) })
	require.Zero(t, allocs)
}

// fuzzFramed checks a framed reader on arbitrary bytes: it never panics,
// and every frame it returns is exactly the bytes its length announced,
// taken from where the previous frame ended.
func fuzzFramed(t *testing.T, l LengthFraming, data []byte, header byte) {
	f := allHeaders()[int(header)%3]
	f.Length = l
	fr := NewFramedReader(bytes.NewReader(data), f, 64)
	pos, ls := 0, l.Size()
	for range len(data) + 1 {
		hdr, msg, err := fr.Next()
		if err != nil {
			return
		}
		n := len(hdr) + len(msg)
		if l != LengthNone {
			want, perr := l.ParseLength(data[pos:])
			if perr != nil || want != n {
				t.Fatalf("frame of %d bytes where the length says %d (%v)", n, want, perr)
			}
		}
		if len(hdr) != f.HeaderLen() || n > 64+f.HeaderLen() {
			t.Fatalf("header of %d bytes, frame of %d", len(hdr), n)
		}
		end := pos + ls + n
		if end > len(data) || !bytes.Equal(data[pos+ls:end], append(append([]byte(nil), hdr...), msg...)) {
			t.Fatalf("frame is not the stream's bytes at %d", pos)
		}
		pos = end
	}
}

func addFramedSeeds(f *testing.F, l LengthFraming) {
	for i, fr := range allHeaders() {
		fr.Length = l
		hdr := fr.Fixed
		if fr.Header == HeaderTPDU {
			hdr = []byte{0x60, 0, 1, 0, 2}
		}
		b, _ := fr.AppendFrame(nil, hdr, []byte("0800"))
		b, _ = fr.AppendFrame(b, hdr, nil)
		f.Add(b, byte(i))
	}
	f.Add([]byte("00A5xx"), byte(0))
	f.Add([]byte{0xA0, 0x05, 0x60}, byte(1))
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF}, byte(2))
	f.Add([]byte(strings.Repeat("9", 70)), byte(0))
}

func FuzzFramedBinary2(f *testing.F) {
	addFramedSeeds(f, LengthBinary2)
	f.Fuzz(func(t *testing.T, d []byte, h byte) { fuzzFramed(t, LengthBinary2, d, h) })
}

func FuzzFramedBinary2Inclusive(f *testing.F) {
	addFramedSeeds(f, LengthBinary2Inclusive)
	f.Fuzz(func(t *testing.T, d []byte, h byte) { fuzzFramed(t, LengthBinary2Inclusive, d, h) })
}

func FuzzFramedBCD2(f *testing.F) {
	addFramedSeeds(f, LengthBCD2)
	f.Fuzz(func(t *testing.T, d []byte, h byte) { fuzzFramed(t, LengthBCD2, d, h) })
}

func FuzzFramedASCII4(f *testing.F) {
	addFramedSeeds(f, LengthASCII4)
	f.Fuzz(func(t *testing.T, d []byte, h byte) { fuzzFramed(t, LengthASCII4, d, h) })
}

func FuzzFramedBinary4(f *testing.F) {
	addFramedSeeds(f, LengthBinary4)
	f.Fuzz(func(t *testing.T, d []byte, h byte) { fuzzFramed(t, LengthBinary4, d, h) })
}

func FuzzFramedNone(f *testing.F) {
	addFramedSeeds(f, LengthNone)
	f.Fuzz(func(t *testing.T, d []byte, h byte) { fuzzFramed(t, LengthNone, d, h) })
}

// BenchmarkFramedReader compares the framed reader with today's binary2
// FrameReader on the same stream.
func BenchmarkFramedReader(b *testing.B) {
	one := AppendFrame(nil, []byte(golden0100))
	stream := bytes.Repeat(one, 1000)
	b.Run("FrameReader", func(b *testing.B) {
		r := bytes.NewReader(stream)
		fr := NewFrameReader(r, 0)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fr.Next(); err != nil {
				r.Reset(stream)
			}
		}
	})
	b.Run("FramedReader", func(b *testing.B) {
		r := bytes.NewReader(stream)
		fr := NewFramedReader(r, Framing{Length: LengthBinary2}, 0)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := fr.Next(); err != nil {
				r.Reset(stream)
			}
		}
	})
}
