package iso

import "math/bits"

// Scan parses frame's MTI, bitmap(s) and the offsets of every present
// field into v, validating as moov's Unpack would. It is deliberately
// stricter in a few ways, all on frames moov would not repack
// identically or that no ISO peer should send: the MTI and Numeric fields
// must be plain digits (moov parses a sign), length prefixes must be
// digits, a tertiary bitmap (bit 65) and bytes after the last field are
// errors. Hex characters may be either case, as in moov. v aliases frame:
// it stays valid as long as frame's bytes do. Scan does not allocate.
//
// Errors: ErrNoMTI; a *FieldError (shared and immutable: do not modify)
// for the first bad field; ErrTrailingData. On error v keeps every field
// scanned before the failing one.
func (s *Scanner) Scan(frame []byte, v *View) error { return s.scan(frame, v, false) }

// ScanLenient is Scan that steps over fields whose length is known but
// whose content is bad (a letter in a numeric field, say): they are left
// out of v and scanning goes on, so that a format-error answer can still
// echo the STAN, RRN and terminal id that follow them. It returns the
// first error, like Scan.
func (s *Scanner) ScanLenient(frame []byte, v *View) error { return s.scan(frame, v, true) }

func (s *Scanner) scan(frame []byte, v *View, lenient bool) error {
	var first error
	v.reset(s, frame)
	if len(frame) < 4 || !allDigits(frame[:4]) {
		return ErrNoMTI
	}
	v.mark(0, 0, 0, 4)
	off, err := s.scanBitmaps(frame, v)
	if err != nil {
		return err
	}
	for w, word := range v.bitmap {
		for word != 0 {
			b := bits.LeadingZeros64(word)
			word &^= 1 << (63 - b)
			id := w*64 + b + 1
			if id == 1 || (id == 65 && s.autoExpand) {
				continue // bitmap presence bits, handled by scanBitmaps
			}
			next, err := s.scanField(id, frame, off, v)
			if err == nil {
				off = next
				continue
			}
			if !lenient || next == 0 {
				return firstErr(first, err)
			}
			first, off = firstErr(first, err), next
		}
	}
	if off != len(frame) {
		return firstErr(first, ErrTrailingData)
	}
	return first
}

func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// scanBitmaps reads the primary and, when bit 1 announces it, the
// secondary bitmap. A tertiary bitmap (bit 65) is refused: the spec
// defines no field beyond 128.
func (s *Scanner) scanBitmaps(frame []byte, v *View) (int, error) {
	off := 4
	size := bitmapBytes
	if s.bitmapHex {
		size *= 2
	}
	for i := range v.bitmap {
		if len(frame)-off < size {
			return 0, fieldErr(1, reasonTruncated)
		}
		word, ok := s.decodeBitmap(frame[off : off+size])
		if !ok {
			return 0, fieldErr(1, reasonNonHex)
		}
		v.bitmap[i] = word
		off += size
		if !s.autoExpand || word>>63 == 0 {
			break
		}
	}
	if s.autoExpand && v.bitmap[1]>>63 != 0 {
		return 0, fieldErr(65, reasonTertiary)
	}
	v.mark(1, 4, 4, off)
	return off, nil
}

func (s *Scanner) decodeBitmap(b []byte) (uint64, bool) {
	var word uint64
	if !s.bitmapHex {
		for _, c := range b {
			word = word<<8 | uint64(c)
		}
		return word, true
	}
	for _, c := range b {
		d, ok := hexVal(c)
		if !ok {
			return 0, false
		}
		word = word<<4 | uint64(d)
	}
	return word, true
}

// scanField records field id starting at off and returns its end.
func (s *Scanner) scanField(id int, frame []byte, off int, v *View) (int, error) {
	f := &s.fields[id]
	if !f.defined {
		return 0, fieldErr(id, reasonNotInSpec)
	}
	n, start := int(f.length), off
	if f.prefixDigits > 0 {
		p := int(f.prefixDigits)
		if len(frame)-off < p {
			return 0, fieldErr(id, reasonTruncated)
		}
		n = 0
		for _, c := range frame[off : off+p] {
			if c < '0' || c > '9' {
				return 0, fieldErr(id, reasonBadPrefix)
			}
			n = n*10 + int(c-'0')
		}
		if n > int(f.length) {
			return 0, fieldErr(id, reasonTooLong)
		}
		start += p
	}
	if f.hex {
		n *= 2
	}
	if len(frame)-start < n {
		return 0, fieldErr(id, reasonTruncated)
	}
	if r, ok := f.validate(frame[start : start+n]); !ok {
		return start + n, fieldErr(id, r) // length known: a lenient scan may go on
	}
	v.mark(id, off, start, start+n)
	return start + n, nil
}

// validate applies the field's content check; it returns the failure reason.
func (f *fieldInfo) validate(data []byte) (int, bool) {
	switch f.check {
	case checkDigits:
		if !allDigits(data) {
			return reasonNonDigit, false
		}
	case checkASCII:
		if !allASCII(data) {
			return reasonNonASCII, false
		}
	case checkHex:
		for _, c := range data {
			if _, ok := hexVal(c); !ok {
				return reasonNonHex, false
			}
		}
	}
	return 0, true
}

func hexVal(c byte) (byte, bool) {
	d := hexDigits[c]
	return d, d != notHex
}

// hexDigits maps a byte to its hex value, notHex when it is not a hex
// digit: a lookup has no branches to mispredict on the bitmap's mixed
// digits and letters.
var hexDigits = func() (t [256]byte) {
	for i := range t {
		t[i] = notHex
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('A'); c <= 'F'; c++ {
		t[c], t[c+'a'-'A'] = c-'A'+10, c-'A'+10
	}
	return t
}()

const notHex = 0xFF
