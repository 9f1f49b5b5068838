package iso

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestFrameReaderEveryFraming: a general FrameReader reads every framing,
// its scan-ahead helpers (Complete, PeekNext) give the very slice Next
// returns, and Header is the frame's header.
func TestFrameReaderEveryFraming(t *testing.T) {
	tpdu := []byte{0x60, 0x00, 0x01, 0x00, 0x02}
	fixed := []byte("ISO026000050")
	for _, f := range []Framing{
		{Length: LengthBinary2}, {Length: LengthBinary2Inclusive}, {Length: LengthBCD2},
		{Length: LengthASCII4}, {Length: LengthBinary4}, {Length: LengthBinary2, Header: HeaderTPDU},
		{Length: LengthASCII4, Header: HeaderFixed, Fixed: fixed},
	} {
		t.Run(f.Length.String()+"/"+f.HeaderName(), func(t *testing.T) {
			var hdr []byte
			if f.Header == HeaderTPDU {
				hdr = tpdu
			}
			var stream []byte
			msgs := [][]byte{[]byte("0800first"), []byte("0810second message")}
			for _, m := range msgs {
				var err error
				if stream, err = f.AppendFrame(stream, hdr, m); err != nil {
					t.Fatal(err)
				}
			}
			fr := NewFrameReaderFraming(bytes.NewReader(stream), f, 64)
			for i, m := range msgs {
				got, err := fr.Next()
				if err != nil || !bytes.Equal(got, m) {
					t.Fatalf("frame %d: %q, %v; want %q", i, got, err, m)
				}
				if f.HeaderLen() > 0 && !bytes.Equal(fr.Header(), stream[f.Length.Size():f.Length.Size()+f.HeaderLen()]) {
					t.Fatalf("header %x", fr.Header())
				}
				if i == 0 {
					if !fr.Complete() {
						t.Fatal("second frame read ahead but not Complete")
					}
					ahead := fr.PeekNext()
					next, _ := fr.Next()
					if !sameSlice(ahead, next) {
						t.Fatal("PeekNext is not the slice Next returns")
					}
					break
				}
			}
			if _, err := fr.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the frames: %v, want EOF", err)
			}
		})
	}
}

func sameSlice(a, b []byte) bool { return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0] }

// TestFrameReaderHostileFraming: each framing's broken frames give a
// *FramingError naming the rule, and PeekNext never returns them.
func TestFrameReaderHostileFraming(t *testing.T) {
	for _, tt := range []struct {
		name  string
		f     Framing
		frame []byte
		rule  string
	}{
		{"ascii4 non-digit", Framing{Length: LengthASCII4}, []byte("00x1abcd"), "non-digit in the length"},
		{"bcd2 nibble above 9", Framing{Length: LengthBCD2}, []byte{0x0A, 0x01, 'x'}, "nibble above 9 in the length"},
		{"shorter than its tpdu", Framing{Length: LengthBinary2, Header: HeaderTPDU}, []byte{0, 3, 0x60, 0, 0}, "frame shorter than its header"},
		{"tpdu id", Framing{Length: LengthBinary2, Header: HeaderTPDU}, []byte{0, 5, 0x61, 0, 0, 0, 0}, "TPDU ID is not 0x60"},
		{"inclusive below 2", Framing{Length: LengthBinary2Inclusive}, []byte{0, 1}, "length below 2, the size of the length itself"},
		{"too large", Framing{Length: LengthASCII4}, []byte("9999"), ruleTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fr := NewFrameReaderFraming(bytes.NewReader(tt.frame), tt.f, 64)
			_ = fr.Wait()
			if p := fr.PeekNext(); p != nil {
				t.Fatalf("PeekNext returned %q", p)
			}
			_, err := fr.Next()
			var fe *FramingError
			if !errors.As(err, &fe) || fe.Rule != tt.rule {
				t.Fatalf("err %v, want rule %q", err, tt.rule)
			}
			if (tt.rule == ruleTooLarge) != errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("errors.Is(ErrFrameTooLarge) wrong for %v", err)
			}
		})
	}
}
