package iso

import (
	"math/bits"
	"strconv"
)

// MAC fields: a MAC covers the bytes it was computed on, which
// re-encoding changes, so translation removes them.
const (
	macPrimary   = 64
	macSecondary = 128
)

// copyFields copies every field of src (MTI included) into dst by value,
// expressed for to's layout and checked against it. Fields already set in
// dst (by the version rules) are kept.
func copyFields(dst, src *vals, from, to *codecSet, buf *[]byte, _ *Carry) error {
	for w, word := range src.present {
		for ; word != 0; word &= word - 1 {
			id := w*64 + bits.TrailingZeros64(word)
			if dst.has(id) || id == macPrimary || id == macSecondary {
				continue
			}
			if err := copyField(dst, src.v[id], id, &from.f[id], &to.f[id], buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyField expresses one value for to's layout and sets it in dst.
func copyField(dst *vals, v []byte, id int, fc, tc *fcodec, buf *[]byte) error {
	if !tc.defined {
		return xerr(id, "not defined in the target dialect")
	}
	v, err := kindConvert(id, v, fc.bytesKind, tc.bytesKind, buf)
	if err != nil {
		return err
	}
	v = fixedText(v, fc, tc, buf)
	if err := tc.fits(id, v); err != nil {
		return err
	}
	dst.set(id, v)
	return nil
}

// kindConvert turns bytes into text and back: a binary field whose
// counterpart is text (field 55: binary TLV in the binary dialects, an
// ASCII LLLVAR in iso87ascii) carries its bytes as uppercase hex text.
func kindConvert(id int, v []byte, fromBytes, toBytes bool, buf *[]byte) ([]byte, error) {
	switch {
	case fromBytes == toBytes:
		return v, nil
	case fromBytes:
		reserve(buf, 2*len(v))
		start := len(*buf)
		for _, b := range v {
			*buf = append(*buf, upperHex[b>>4], upperHex[b&0xF])
		}
		return (*buf)[start:], nil
	}
	reserve(buf, len(v)/2)
	out, ok := decodeHex(v, buf)
	if !ok {
		return nil, xerr(id, "text is not the hex form of the target's binary value")
	}
	return out, nil
}

// fixedText fits text between a variable and a fixed layout (1993's 43
// LL..99 and 1987's 40 characters): padded with spaces on the right into
// the fixed field, trailing spaces trimmed out of it.
func fixedText(v []byte, from, to *fcodec, buf *[]byte) []byte {
	if !isText(from) || !isText(to) || (from.pref == prefFixed) == (to.pref == prefFixed) {
		return v
	}
	if from.pref == prefFixed {
		for len(v) > 0 && v[len(v)-1] == ' ' {
			v = v[:len(v)-1]
		}
		return v
	}
	if len(v) >= to.length {
		return v
	}
	reserve(buf, to.length)
	start := len(*buf)
	*buf = append(*buf, v...)
	for len(*buf)-start < to.length {
		*buf = append(*buf, ' ')
	}
	return (*buf)[start:]
}

// isText: a character field (ASCII or EBCDIC String), where spaces pad.
func isText(c *fcodec) bool {
	return c.kind == kString && (c.enc == encASCII || c.enc == encEBCDIC)
}

// reserve makes room for n more bytes in buf without moving what is
// already there (values alias it): a full buffer is replaced, not grown.
func reserve(buf *[]byte, n int) {
	if cap(*buf)-len(*buf) < n {
		*buf = make([]byte, 0, max(2*cap(*buf), n+64))
	}
}

// fits checks that v can be written in c's layout: its length and its
// characters. The reasons are fixed texts and numbers, never the value.
func (c *fcodec) fits(id int, v []byte) error {
	n := len(v)
	if c.pref == prefFixed && n != c.length {
		return xerr(id, "length "+strconv.Itoa(n)+" where the target's fixed length is "+strconv.Itoa(c.length))
	}
	if n > c.length {
		return xerr(id, "length "+strconv.Itoa(n)+" above the target's maximum "+strconv.Itoa(c.length))
	}
	if n > c.prefixMax {
		return xerr(id, "length does not fit the target's length prefix")
	}
	if c.kind == kNumeric {
		if !allDigits(v) {
			return xerr(id, "non-digit for the target's numeric field")
		}
		return nil
	}
	return c.fitsEncoding(id, v)
}

func (c *fcodec) fitsEncoding(id int, v []byte) error {
	switch c.enc {
	case encASCII:
		if !allASCII(v) {
			return xerr(id, "non-ASCII byte for the target's ASCII field")
		}
	case encBCD, encLBCD:
		if !allDigits(v) {
			return xerr(id, "non-digit for the target's BCD field")
		}
	case encTrack2:
		for _, b := range v {
			if (b < '0' || b > '9') && b != '=' {
				return xerr(id, "character other than a digit or '=' for the target's BCD track 2")
			}
		}
	case encSignBCD, encEBCDICSign:
		if len(v) < 1 || !allDigits(v[1:]) || (c.enc == encSignBCD && v[0] > 0x7F) {
			return xerr(id, "not a sign and digits for the target's x+n field")
		}
	}
	return nil
}
