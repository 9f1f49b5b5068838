package iso

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"slices"

	"github.com/moov-io/iso8583/encoding"
)

// ebcdicToASCII and asciiToEBCDIC are moov's EBCDIC tables, taken from
// its encoder so that the fast path reads and writes exactly what moov
// does.
var ebcdicToASCII, asciiToEBCDIC = func() (dec, enc [256]byte) {
	var all [256]byte
	for i := range all {
		all[i] = byte(i)
	}
	d, _, err1 := encoding.EBCDIC.Decode(all[:], len(all))
	e, err2 := encoding.EBCDIC.Encode(all[:])
	if err1 != nil || err2 != nil || len(d) != 256 || len(e) != 256 {
		panic("iso: moov's EBCDIC table is not a byte map")
	}
	copy(dec[:], d)
	copy(enc[:], e)
	return dec, enc
}()

const upperHex = "0123456789ABCDEF"

// decode reads msg into m, the values aliasing msg or buf. What moov
// surely refuses too (a frame cut inside a field, a nibble above 9, a
// length above the maximum, a field the spec does not define) is refused
// here, naming the field; what moov might read differently (a sign in a
// length prefix or a numeric, a tertiary bitmap) returns errFastDecode and
// moov decides.
func (cs *codecSet) decode(msg []byte, m *vals, buf *[]byte) error {
	if cap(*buf)-len(*buf) < 2*len(msg)+64 {
		*buf = make([]byte, 0, 2*len(msg)+64)
	}
	off, err := cs.decodeField(0, msg, 0, m, buf)
	if err != nil {
		return err
	}
	var bm [2]uint64
	if off, err = cs.decodeBitmap(msg, off, &bm); err != nil {
		return err
	}
	for w, word := range bm {
		for word != 0 {
			b := bits.LeadingZeros64(word)
			word &^= 1 << (63 - b)
			id := w*64 + b + 1
			if id == 1 {
				continue
			}
			if off, err = cs.decodeField(id, msg, off, m, buf); err != nil {
				return err
			}
		}
	}
	if off != len(msg) {
		return ErrTrailingData
	}
	return nil
}

// errBadWire is a field's wire form that moov refuses too; decodeField
// turns it into an error naming the field.
var errBadWire = errors.New("iso: unreadable field")

const reasonUnreadable = "unreadable in the source dialect"

func (cs *codecSet) decodeBitmap(msg []byte, off int, bm *[2]uint64) (int, error) {
	size := bitmapBytes
	if cs.bitmapHex {
		size *= 2
	}
	for i := range bm {
		if len(msg)-off < size {
			return 0, xerr(1, reasonUnreadable)
		}
		word, ok := bitmapWord(msg[off:off+size], cs.bitmapHex)
		if !ok {
			return 0, xerr(1, reasonUnreadable)
		}
		bm[i] = word
		off += size
		if word>>63 == 0 {
			break
		}
	}
	if bm[1]>>63 != 0 {
		return 0, errFastDecode // a tertiary bitmap: moov decides
	}
	return off, nil
}

// bitmapWord reads one bitmap: 8 bytes, or 16 hex characters a pair at a
// time (a character that is not hex maps to notHex, whose high bits the
// check of all of them at once catches).
func bitmapWord(w []byte, hexChars bool) (uint64, bool) {
	if !hexChars {
		return binary.BigEndian.Uint64(w), true
	}
	var word uint64
	var seen byte
	for i := 0; i+1 < len(w); i += 2 {
		hi, lo := hexDigits[w[i]], hexDigits[w[i+1]]
		seen |= hi | lo
		word = word<<8 | uint64(hi)<<4 | uint64(lo)
	}
	return word, seen&^0xF == 0
}

func (cs *codecSet) decodeField(id int, msg []byte, off int, m *vals, buf *[]byte) (int, error) {
	c := &cs.f[id]
	if !c.defined {
		return 0, xerr(id, "not defined in the source dialect")
	}
	n, off, err := c.decodeLength(msg, off)
	if err == nil && len(msg)-off < c.wireLen(n) {
		err = errBadWire
	}
	var v []byte
	if err == nil {
		v, err = c.decodeValue(msg[off:off+c.wireLen(n)], n, buf)
	}
	if err == errBadWire {
		return 0, xerr(id, reasonUnreadable)
	}
	if err != nil {
		return 0, err
	}
	m.set(id, v)
	return off + c.wireLen(n), nil
}

// decodeLength reads the length prefix at off: the value's length in
// characters or bytes, and where the value starts.
func (c *fcodec) decodeLength(msg []byte, off int) (int, int, error) {
	if c.pref == prefFixed {
		return c.length, off, nil
	}
	pl := c.prefixLen()
	if len(msg)-off < pl {
		return 0, 0, errBadWire
	}
	p, n := msg[off:off+pl], 0
	switch {
	case c.pref == prefASCII && c.pdigits == 2 && len(p) == 2: // LLVAR, the commonest
		d1, d0 := p[0]-'0', p[1]-'0'
		if d1 > 9 || d0 > 9 {
			return 0, 0, errFastDecode // moov's Atoi reads a sign
		}
		n = int(d1)*10 + int(d0)
	case c.pref == prefBCD && c.pdigits == 2 && len(p) == 1:
		if p[0]>>4 > 9 || p[0]&0xF > 9 {
			return 0, 0, errBadWire
		}
		n = int(p[0]>>4)*10 + int(p[0]&0xF)
	default:
		var err error
		if n, err = c.decodePrefix(p); err != nil {
			return 0, 0, err
		}
	}
	if n > c.length {
		return 0, 0, errBadWire
	}
	return n, off + pl, nil
}

// decodePrefix reads any length prefix p of c's kind.
func (c *fcodec) decodePrefix(p []byte) (int, error) {
	n := 0
	switch c.pref {
	case prefASCII, prefEBCDIC:
		for _, b := range p {
			if c.pref == prefEBCDIC {
				b = ebcdicToASCII[b]
			}
			if b < '0' || b > '9' {
				return 0, errFastDecode // moov's Atoi reads a sign
			}
			n = n*10 + int(b-'0')
		}
	case prefBCD:
		for _, b := range p {
			if b>>4 > 9 || b&0xF > 9 {
				return 0, errBadWire
			}
			n = n*100 + int(b>>4)*10 + int(b&0xF)
		}
		if c.pdigits%2 == 1 && p[0]>>4 != 0 {
			n %= pow10(c.pdigits) // moov reads the last pdigits digits
		}
	case prefBinary:
		if len(p) > 4 {
			return 0, errFastDecode
		}
		for _, b := range p {
			n = n<<8 | int(b)
		}
	}
	return n, nil
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// decodeValue turns w's wire bytes into n characters or bytes.
func (c *fcodec) decodeValue(w []byte, n int, buf *[]byte) ([]byte, error) {
	switch c.enc {
	case encASCII:
		if c.kind == kNumeric && !allDigits(w) {
			return nil, errFastDecode // moov's ParseInt reads a sign
		}
		return w, okIf(allASCII(w))
	case encBinary:
		return w, nil
	case encEBCDIC:
		start := len(*buf)
		for _, b := range w {
			*buf = append(*buf, ebcdicToASCII[b])
		}
		return (*buf)[start:], nil
	case encHexASCII:
		v, ok := decodeHex(w, buf)
		return v, okIf(ok)
	case encSignBCD, encEBCDICSign:
		return decodeSignBCD(c.enc, w, n, buf)
	case encTrack2:
		v, ok := decodeTrack2(w, n, buf)
		return v, okIf(ok)
	}
	if endsInFiller(w) {
		return nil, errFastDecode
	}
	start := len(*buf)
	if !decodeBCD(w, n, c.enc == encBCD, buf) {
		return nil, errBadWire
	}
	return (*buf)[start:], nil
}

// endsInFiller: the last byte is a digit and the filler nibble F, which
// moov's BCD decoder reads as the end of the digits (a value one digit
// short, or a pad nibble it does not check): moov decides.
func endsInFiller(w []byte) bool {
	return len(w) > 0 && w[len(w)-1]&0xF == 0xF && w[len(w)-1]>>4 <= 9
}

func okIf(ok bool) error {
	if ok {
		return nil
	}
	return errBadWire
}

// decodeSignBCD reads an x+n amount: the sign (ASCII up to 127, or
// EBCDIC), then BCD digits.
func decodeSignBCD(enc uint8, w []byte, n int, buf *[]byte) ([]byte, error) {
	if n < 1 {
		return nil, errBadWire
	}
	s := w[0]
	if enc == encEBCDICSign {
		s = ebcdicToASCII[s]
	} else if s > 0x7F {
		return nil, errBadWire
	}
	if endsInFiller(w[1:]) {
		return nil, errFastDecode
	}
	start := len(*buf)
	*buf = append(*buf, s)
	if !decodeBCD(w[1:], n-1, true, buf) {
		return nil, errBadWire
	}
	return (*buf)[start:], nil
}

// decodeBCD appends n digits from w, (n+1)/2 bytes; every nibble, the
// pad one included, must be a digit (moov's BCD decoder checks whole
// bytes).
func decodeBCD(w []byte, n int, leftPad bool, buf *[]byte) bool {
	out, ok := appendBCDText(*buf, w, n, leftPad)
	*buf = out
	return ok
}

// decodeTrack2 reads as Track2BCD: the pad nibble is not looked at.
func decodeTrack2(w []byte, n int, buf *[]byte) ([]byte, bool) {
	start := len(*buf)
	for i := range n {
		d := w[i/2] >> 4
		if i%2 == 1 {
			d = w[i/2] & 0xF
		}
		switch {
		case d <= 9:
			*buf = append(*buf, '0'+d)
		case d == 0xD:
			*buf = append(*buf, '=')
		default:
			return nil, false
		}
	}
	return (*buf)[start:], true
}

func decodeHex(w []byte, buf *[]byte) ([]byte, bool) {
	if len(w)%2 != 0 {
		return nil, false
	}
	start := len(*buf)
	for i := 0; i < len(w); i += 2 {
		hi, ok1 := hexVal(w[i])
		lo, ok2 := hexVal(w[i+1])
		if !ok1 || !ok2 {
			return nil, false
		}
		*buf = append(*buf, hi<<4|lo)
	}
	return (*buf)[start:], true
}

// encode appends m in cs's layout. The values have passed fits, so
// encoding cannot fail on them.
func (cs *codecSet) encode(dst []byte, m *vals) ([]byte, error) {
	dst = cs.f[0].encodeField(dst, m.v[0])
	var bm [2]uint64
	// m's presence words count from bit 0 = field 0; the wire's from the
	// top bit = field 1.
	bm[0] = bits.Reverse64(m.present[0]&^3)<<1 | m.present[1]&1
	bm[1] = bits.Reverse64(m.present[1]&^1)<<1 | m.present[2]&1
	if bm[1] != 0 {
		bm[0] |= 1 << 63
	}
	for i := range 1 + int(bm[0]>>63) {
		if cs.bitmapHex {
			for s := 60; s >= 0; s -= 4 {
				dst = append(dst, upperHex[bm[i]>>uint(s)&0xF])
			}
		} else {
			dst = binary.BigEndian.AppendUint64(dst, bm[i])
		}
	}
	for w, word := range m.present {
		if w == 0 {
			word &^= 3
		}
		for ; word != 0; word &= word - 1 {
			id := w*64 + bits.TrailingZeros64(word)
			dst = cs.f[id].encodeField(dst, m.v[id])
		}
	}
	return dst, nil
}

func (c *fcodec) encodeField(dst, v []byte) []byte {
	return c.encodeValue(c.appendPrefix(dst, len(v)), v)
}

// encodePrefix appends the length prefix of a value of n characters or
// bytes.
func (c *fcodec) encodePrefix(dst []byte, n int) []byte {
	switch c.pref {
	case prefASCII, prefEBCDIC:
		var digits [6]byte
		for i, r := c.pdigits-1, n; i >= 0; i, r = i-1, r/10 {
			digits[i] = byte('0' + r%10)
			if c.pref == prefEBCDIC {
				digits[i] = asciiToEBCDIC[digits[i]]
			}
		}
		dst = append(dst, digits[:c.pdigits]...)
	case prefBCD:
		var digits [3]byte
		pl := c.prefixLen()
		for i, r := pl-1, n; i >= 0; i, r = i-1, r/100 {
			digits[i] = byte(r%100/10)<<4 | byte(r%10)
		}
		dst = append(dst, digits[:pl]...)
	case prefBinary:
		for i := c.pdigits - 1; i >= 0; i-- {
			dst = append(dst, byte(n>>(8*uint(i))))
		}
	}
	return dst
}

func (c *fcodec) encodeValue(dst, v []byte) []byte {
	switch c.enc {
	case encEBCDIC:
		for _, b := range v {
			dst = append(dst, asciiToEBCDIC[b])
		}
		return dst
	case encHexASCII:
		for _, b := range v {
			dst = append(dst, upperHex[b>>4], upperHex[b&0xF])
		}
		return dst
	case encBCD:
		return appendBCD(dst, v, true)
	case encLBCD, encTrack2:
		return appendBCD(dst, v, false)
	case encSignBCD:
		return appendBCD(append(dst, v[0]), v[1:], true)
	case encEBCDICSign:
		return appendBCD(append(dst, asciiToEBCDIC[v[0]]), v[1:], true)
	}
	return append(dst, v...)
}

// appendBCD packs digits (and '=' as D) two per byte, the odd pad nibble
// 0 on the left or the right.
func appendBCD(dst, v []byte, leftPad bool) []byte {
	n := len(v)
	o := len(dst)
	dst = slices.Grow(dst, (n+1)/2)[:o+(n+1)/2]
	out := dst[o:]
	i, j := 0, 0
	if n%2 == 1 && leftPad {
		out[0] = nibble[v[0]]
		i, j = 1, 1
	}
	for ; i+1 < n && j < len(out); i, j = i+2, j+1 {
		out[j] = nibble[v[i]]<<4 | nibble[v[i+1]]
	}
	if i < n && j < len(out) {
		out[j] = nibble[v[i]] << 4
	}
	return dst
}

// nibble is a digit's BCD nibble, D for '='.
var nibble = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i) - '0'
	}
	t['='] = 0xD
	return t
}()
