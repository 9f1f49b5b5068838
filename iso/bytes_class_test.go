package iso

import "testing"

func allDigitsLoop(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func allASCIILoop(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// TestByteClassesMatchLoops holds allDigits and allASCII, which load
// several bytes at once, to a byte-by-byte loop: every byte value at every
// position of every length up to 24, among digits and among letters.
func TestByteClassesMatchLoops(t *testing.T) {
	for n := range 25 {
		for _, fill := range []byte{'7', 'A'} {
			b := make([]byte, n)
			for pos := range n {
				for v := range 256 {
					for i := range b {
						b[i] = fill
					}
					b[pos] = byte(v)
					if got, want := allDigits(b), allDigitsLoop(b); got != want {
						t.Fatalf("allDigits(%q) = %v, want %v", b, got, want)
					}
					if got, want := allASCII(b), allASCIILoop(b); got != want {
						t.Fatalf("allASCII(%q) = %v, want %v", b, got, want)
					}
				}
			}
			if n == 0 && (!allDigits(b) || !allASCII(b)) {
				t.Fatal("an empty value is in every class")
			}
		}
	}
}

// TestAppendBCDDigitsMatchesAppendBCD: packing digits 8 at a time gives
// appendBCD's bytes, both pads, every length up to 40, every digit at
// every position.
func TestAppendBCDDigitsMatchesAppendBCD(t *testing.T) {
	for n := range 41 {
		v := make([]byte, n)
		for pos := range n {
			for d := byte('0'); d <= '9'; d++ {
				for i := range v {
					v[i] = '0' + byte((i*7+n)%10)
				}
				v[pos] = d
				for _, leftPad := range []bool{true, false} {
					prefix := []byte{0xAB}
					got := appendBCDDigits(prefix, v, leftPad)
					want := appendBCD([]byte{0xAB}, v, leftPad)
					if string(got) != string(want) {
						t.Fatalf("appendBCDDigits(%q, leftPad %v) = %x, want %x", v, leftPad, got, want)
					}
				}
			}
		}
	}
}
