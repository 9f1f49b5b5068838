package iso

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

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
