package iso

import "encoding/binary"

// IsRequestMTI reports whether mti is 4 ASCII digits with an even third
// digit (the message function: 0 request, 2 advice, 4 notification...).
func IsRequestMTI(mti []byte) bool {
	return len(mti) == 4 && allDigits(mti) && (mti[2]-'0')%2 == 0
}

// ResponseMTI returns the response MTI for a request MTI: third digit + 1
// (0100→0110, 0420→0430, 0800→0810). For anything that is not a request
// MTI (IsRequestMTI false) it returns mti's first 4 bytes unchanged
// (zero-padded when shorter), so callers should check IsRequestMTI first.
func ResponseMTI(mti []byte) [4]byte {
	var r [4]byte
	copy(r[:], mti)
	if IsRequestMTI(mti) {
		r[2]++
	}
	return r
}

// Masks to check 8 bytes at once (SWAR): the scanner validates every
// field of every message, most of them digits.
const (
	highNibbles = 0xF0F0F0F0F0F0F0F0
	threes      = 0x3030303030303030 // '0' in each byte
	sixes       = 0x0606060606060606 // carries a low nibble above 9 into the high one
	highBits    = 0x8080808080808080
	highBits32  = 0x80808080
)

// allDigits reports whether every byte of b is an ASCII digit. Fields are
// short (a 6-digit amount, a 2-digit code), so lengths below 8 are
// checked at once too: two overlapping 4-byte loads, or for 1-3 bytes the
// first, middle and last byte padded with '0's; a longer value is checked
// in words, the last one overlapping the one before.
func allDigits(b []byte) bool {
	n := len(b)
	switch {
	case n >= 8:
		for i := 0; i < n-8; i += 8 {
			if !digits8(binary.LittleEndian.Uint64(b[i:])) {
				return false
			}
		}
		return digits8(binary.LittleEndian.Uint64(b[n-8:]))
	case n >= 4:
		return digits8(uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32)
	case n > 0:
		return digits8(uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16 | 0x3030303030<<24)
	}
	return true
}

// digits8: the 8 bytes of x are ASCII digits.
func digits8(x uint64) bool {
	return x&highNibbles == threes && (x+sixes)&highNibbles == threes
}

// allASCII reports whether every byte of b is below 0x80, loaded as
// allDigits does.
func allASCII(b []byte) bool {
	n := len(b)
	switch {
	case n >= 8:
		x := binary.LittleEndian.Uint64(b[n-8:])
		for i := 0; i < n-8; i += 8 {
			x |= binary.LittleEndian.Uint64(b[i:])
		}
		return x&highBits == 0
	case n >= 4:
		return (binary.LittleEndian.Uint32(b)|binary.LittleEndian.Uint32(b[n-4:]))&highBits32 == 0
	case n > 0:
		return (b[0]|b[n/2]|b[n-1])&0x80 == 0
	}
	return true
}
