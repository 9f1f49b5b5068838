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
)

func allDigits(b []byte) bool {
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		if x&highNibbles != threes || (x+sixes)&highNibbles != threes {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c-'0' > 9 {
			return false
		}
	}
	return true
}

func allASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&highBits != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c&0x80 != 0 {
			return false
		}
	}
	return true
}
