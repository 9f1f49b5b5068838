package iso

import "errors"

// errSlowResponse: AppendResponse cannot build this response by copying
// (field 39 is not 2 ASCII characters in this spec, or the response needs
// a secondary bitmap the spec does not expand to); BuildResponse can.
var errSlowResponse = errors.New("iso: response needs moov")

// AppendResponse appends to dst the response BuildResponse would build to
// req (the response MTI, the EchoFields req has, 39 = code), without moov:
// the echo fields are copied as they were on the wire (the response has
// the request's spec, so their encodings are the response's too), the
// bitmap is built from the fields copied, and 39 is the code itself. It
// costs well under a microsecond where BuildResponse unpacks and packs
// every field (~6 µs): the switch's own answers (declines, and the 91s of
// an overload) must not cost more than relaying, or shedding load would
// add load. TestAppendResponseMatchesBuildResponse and FuzzScan (every
// request that scans) hold the two equal.
// An error means: use BuildResponse.
func (s *Scanner) AppendResponse(dst []byte, req *View, code string) ([]byte, error) {
	if !IsRequestMTI(req.MTI()) {
		return dst, &FieldError{Field: 0, Reason: reasonNoMTI}
	}
	if len(code) != 2 || code[0] > 127 || code[1] > 127 {
		return dst, &FieldError{Field: 39, Reason: reasonCode}
	}
	if f := s.fields[39]; !f.defined || f.prefixDigits != 0 || f.hex || f.length != 2 || f.check != checkASCII {
		return dst, errSlowResponse
	}
	var bitmap [2]uint64
	setField := func(id int) { bitmap[(id-1)/64] |= 1 << (63 - (id-1)%64) }
	setField(39)
	for _, id := range EchoFields {
		if req.Has(id) {
			setField(id)
		}
	}
	if bitmap[1] != 0 {
		if !s.autoExpand {
			return dst, errSlowResponse
		}
		setField(1)
	}
	mti := ResponseMTI(req.MTI())
	dst = append(dst, mti[:]...)
	dst = s.appendBitmap(dst, bitmap[0])
	if bitmap[1] != 0 {
		dst = s.appendBitmap(dst, bitmap[1])
	}
	code39 := false
	for _, id := range EchoFields { // ascending, as the fields go on the wire
		if id > 39 && !code39 {
			dst, code39 = append(dst, code...), true
		}
		dst = append(dst, req.Raw(id)...) // nil when absent
	}
	if !code39 {
		dst = append(dst, code...)
	}
	return dst, nil
}

// appendBitmap appends one 64-bit bitmap in the spec's encoding: 8 bytes,
// or 16 upper-case hex characters (as moov packs them).
func (s *Scanner) appendBitmap(dst []byte, word uint64) []byte {
	for shift := 56; shift >= 0; shift -= 8 {
		b := byte(word >> shift)
		if s.bitmapHex {
			dst = append(dst, "0123456789ABCDEF"[b>>4], "0123456789ABCDEF"[b&15])
		} else {
			dst = append(dst, b)
		}
	}
	return dst
}
