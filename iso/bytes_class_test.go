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

// appendBCDTextLoop is appendBCDText a nibble at a time.
func appendBCDTextLoop(dst, w []byte, n int, leftPad bool) ([]byte, bool) {
	skip := 0
	if leftPad && n%2 == 1 {
		skip = 1
	}
	for i := range 2 * len(w) {
		d := w[i/2] >> 4
		if i%2 == 1 {
			d = w[i/2] & 0xF
		}
		if d > 9 {
			return nil, false
		}
		if i >= skip && i-skip < n {
			dst = append(dst, '0'+d)
		}
	}
	return dst, true
}

// TestAppendBCDTextMatchesLoop: two bytes at a time gives the nibble
// loop's digits and refusals, both pads, odd and even digit counts, every
// byte value at every position of values up to 12 bytes.
func TestAppendBCDTextMatchesLoop(t *testing.T) {
	for size := range 13 {
		w := make([]byte, size)
		for pos := range size {
			for v := range 256 {
				for i := range w {
					w[i] = byte((i*3+size)%10)<<4 | byte((i*7+1)%10)
				}
				w[pos] = byte(v)
				for _, n := range []int{2 * size, 2*size - 1} {
					for _, leftPad := range []bool{true, false} {
						if n < 0 {
							continue
						}
						got, gok := appendBCDText([]byte("x"), w, n, leftPad)
						want, wok := appendBCDTextLoop([]byte("x"), w, n, leftPad)
						if gok != wok || gok && string(got) != string(want) {
							t.Fatalf("appendBCDText(%x, %d, %v) = %q %v, want %q %v", w, n, leftPad, got, gok, want, wok)
						}
					}
				}
			}
		}
	}
}
