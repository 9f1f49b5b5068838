package iso

import (
	"encoding/binary"
	"slices"
)

// The plan is the translation fast path's inner loop: for every field, a
// converter chosen at NewTranslator for the pair (source layout, target
// layout), that reads the field's wire bytes, checks them as the decoder
// and fits would, and writes the target's wire bytes directly, without a
// value store in between. It is optimistic: anything it does not
// handle, or any check that fails, makes it decline, and the
// value-by-value path (decode, convert, encode) runs from the start and
// decides, the error it names included. It is therefore only ever as
// strict as that path or stricter, never more lenient.

// Field converters.
const (
	opGeneric   uint8 = iota // decode, kindConvert, fixedText, fits, encode
	opCopy                   // the same bytes, checked against a byte class
	opBCDToText              // BCD or LBCD digits to ASCII digits
	opTextToBCD              // ASCII digits to BCD or LBCD
	opEBCDICIn               // EBCDIC text to ASCII
	opEBCDICOut              // ASCII text to EBCDIC
	opBinToHex               // bytes to uppercase hex characters
	opHexToBin               // hex characters to bytes
	opTrimText               // fixed ASCII text to variable: trailing spaces trimmed
	opPadText                // variable ASCII text to fixed: padded with spaces
)

// Byte classes a copied value must stay within: the narrower of what the
// source's decoder and the target's fits accept.
const (
	classAny uint8 = iota
	classASCII
	classDigits
)

// fplan converts one field from one layout to another.
type fplan struct {
	op      uint8
	class   uint8
	leftPad bool  // BCD: the odd pad nibble is on the left
	tfixed  bool  // the target's length is fixed: tmax exactly
	nmul    bool  // opBinToHex: the target counts hex characters, not bytes
	tmax    int   // the target's largest value length
	swire   int   // the source's wire length when fixed, else -1
	slen    int   // the source's length when fixed
	kern    uint8 // a fixed field's shortcut past value, kernNone for none
	sascii  bool  // the source is fixed ASCII: its value is its wire bytes
	sclass  uint8
	fc, tc  *fcodec
}

// xplan is the plan of every field for one direction.
type xplan struct {
	from, to *codecSet
	f        [maxFieldID + 1]fplan
}

func newPlan(from, to *codecSet) *xplan {
	p := &xplan{from: from, to: to}
	for id := range p.f {
		fc, tc := &from.f[id], &to.f[id]
		fp := &p.f[id]
		fp.fc, fp.tc, fp.swire = fc, tc, -1
		if fc.defined && fc.fast && fc.pref == prefFixed {
			fp.swire, fp.slen = fc.wireLen(fc.length), fc.length
			fp.sascii, fp.sclass = fc.enc == encASCII, classOf(fc)
		}
		if !fc.defined || !tc.defined || !fc.fast || !tc.fast {
			continue
		}
		fp.tfixed, fp.tmax = tc.pref == prefFixed, min(tc.length, tc.prefixMax)
		fp.op, fp.class, fp.nmul = planOp(fc, tc)
		fp.leftPad = (fc.enc == encBCD && fp.op == opBCDToText) || (tc.enc == encBCD && fp.op == opTextToBCD)
		fp.kern = kernOf(fp, fc, tc)
	}
	return p
}

// Shortcuts for a fixed field that is fixed in the target too, with the
// same length: what value does for it, without the call and its checks
// that cannot fail.
const (
	kernNone    uint8 = iota
	kernRun           // opCopy between ASCII fields: part of a copyRun
	kernBCDText       // opBCDToText
	kernTextBCD       // opTextToBCD
)

func kernOf(fp *fplan, fc, tc *fcodec) uint8 {
	if fc.pref != prefFixed || tc.pref != prefFixed || fc.length != tc.length {
		return kernNone
	}
	switch {
	case fp.op == opCopy && fc.enc == encASCII && tc.enc == encASCII:
		return kernRun
	case fp.op == opBCDToText:
		return kernBCDText
	case fp.op == opTextToBCD:
		return kernTextBCD
	}
	return kernNone
}

// planOp picks the converter of a field; opGeneric for every pair it has
// no direct converter for.
func planOp(fc, tc *fcodec) (op, class uint8, nmul bool) {
	if isText(fc) && isText(tc) && (fc.pref == prefFixed) != (tc.pref == prefFixed) {
		switch {
		case fc.enc != encASCII || tc.enc != encASCII:
			return opGeneric, 0, false // fixedText pads or trims
		case fc.pref == prefFixed:
			return opTrimText, classASCII, false
		}
		return opPadText, classASCII, false
	}
	src, dst := classOf(fc), classOf(tc)
	cl := max(src, dst)
	switch {
	case fc.bytesKind && fc.enc == encBinary && tc.enc == encBinary:
		return opCopy, classAny, false
	case fc.bytesKind && fc.enc == encBinary && tc.enc == encHexASCII:
		return opBinToHex, 0, false
	case fc.bytesKind && fc.enc == encBinary && tc.kind == kString && tc.enc == encASCII:
		return opBinToHex, 0, true
	case fc.bytesKind && fc.enc == encHexASCII && tc.enc == encBinary:
		return opHexToBin, 0, false
	case fc.bytesKind || tc.bytesKind:
		return opGeneric, 0, false
	case fc.enc == encASCII && tc.enc == encASCII:
		return opCopy, cl, false
	case (fc.enc == encBCD || fc.enc == encLBCD) && tc.enc == encASCII:
		return opBCDToText, 0, false
	case fc.enc == encASCII && (tc.enc == encBCD || tc.enc == encLBCD):
		return opTextToBCD, classDigits, false
	case fc.enc == encEBCDIC && tc.enc == encASCII:
		return opEBCDICIn, dst, false
	case fc.enc == encASCII && tc.enc == encEBCDIC:
		return opEBCDICOut, cl, false
	}
	return opGeneric, 0, false
}

// classOf is what a text field's checks accept: digits for a numeric
// field, ASCII for ASCII text, anything for EBCDIC text (its decoder maps
// every byte).
func classOf(c *fcodec) uint8 {
	switch {
	case c.kind == kNumeric:
		return classDigits
	case c.enc == encASCII:
		return classASCII
	}
	return classAny
}

func inClass(v []byte, class uint8) bool {
	switch class {
	case classDigits:
		return allDigits(v)
	case classASCII:
		return allASCII(v)
	}
	return true
}

// copyRun is a run of consecutive fields whose wire form is the same in
// both layouts (kernRun): their bytes are checked a class at a time
// and appended in one copy when something else is to be written. A
// check that fails makes the translation decline, as the field's own
// converter would have, only later. The zero copyRun is empty.
type copyRun struct {
	start, end int   // the run's bytes in msg
	seg        int   // where the bytes not yet checked start
	class      uint8 // and their class
}

// grow puts msg[off:end] of byte class cl at the end of the run when the
// run ends at off in that class (inlined); when it does not, the caller
// calls restart.
func (r *copyRun) grow(off, end int, cl uint8) bool {
	if r.end == off && r.class == cl {
		r.end = end
		return true
	}
	return false
}

// restart writes the run and starts a new one at off when the run does
// not end there; when it does, it checks the run's bytes so far, whose
// class was another.
func (r *copyRun) restart(dst, msg []byte, off, end int, cl uint8) ([]byte, bool) {
	ok := true
	if r.start == r.end || r.end != off {
		dst, ok = r.flush(dst, msg)
		r.start = off
	} else {
		ok = inClass(msg[r.seg:off], r.class)
	}
	r.seg, r.end, r.class = off, end, cl
	return dst, ok
}

// flush checks and appends the run, which is then empty (small enough
// to inline the test of an empty run).
func (r *copyRun) flush(dst, msg []byte) ([]byte, bool) {
	if r.start == r.end {
		return dst, true
	}
	return r.write(dst, msg)
}

func (r *copyRun) write(dst, msg []byte) ([]byte, bool) {
	ok := true
	switch v := msg[r.seg:r.end]; r.class {
	case classDigits:
		ok = allDigits(v)
	case classASCII:
		ok = allASCII(v)
	}
	dst = append(dst, msg[r.start:r.end]...)
	r.start, r.seg = r.end, r.end
	return dst, ok
}

// xfer converts the field whose length prefix is at msg[off:], appending
// to dst; it returns where the next field starts, ok false to decline.
func (p *fplan) xfer(dst, msg []byte, off int, buf *[]byte) ([]byte, int, bool) {
	if wl := p.swire; wl >= 0 {
		if len(msg)-off < wl {
			return dst, 0, false
		}
		dst, ok := p.value(dst, msg[off:off+wl], p.slen, buf)
		return dst, off + wl, ok
	}
	n, off, err := p.fc.decodeLength(msg, off)
	if err != nil {
		return dst, 0, false
	}
	wl := p.fc.wireLen(n)
	if len(msg)-off < wl {
		return dst, 0, false
	}
	dst, ok := p.value(dst, msg[off:off+wl], n, buf)
	return dst, off + wl, ok
}

// prefix writes the target's length prefix (none when it is fixed) of a
// value of n characters or bytes.
func (p *fplan) prefix(dst []byte, n int) []byte {
	if p.tfixed {
		return dst
	}
	return p.tc.appendVarPrefix(dst, n)
}

// tlen checks a target length of n.
func (p *fplan) tlen(n int) bool {
	if p.tfixed {
		return n == p.tmax
	}
	return n <= p.tmax
}

// value converts one value: w its source wire bytes, n its length.
func (p *fplan) value(dst, w []byte, n int, buf *[]byte) ([]byte, bool) {
	switch p.op {
	case opCopy, opEBCDICOut:
		// inClass spelled out: a call less per field
		ok := p.tlen(n)
		switch p.class {
		case classDigits:
			ok = ok && allDigits(w)
		case classASCII:
			ok = ok && allASCII(w)
		}
		if !ok {
			return dst, false
		}
		dst = p.prefix(dst, n)
		if p.op == opCopy {
			return append(dst, w...), true
		}
		return appendMapped(dst, w, &asciiToEBCDIC), true
	case opEBCDICIn:
		if !p.tlen(n) {
			return dst, false
		}
		dst = appendMapped(p.prefix(dst, n), w, &ebcdicToASCII)
		return dst, inClass(dst[len(dst)-n:], p.class)
	case opBCDToText:
		if !p.tlen(n) {
			return dst, false
		}
		return appendBCDText(p.prefix(dst, n), w, n, p.leftPad)
	case opTextToBCD:
		if !p.tlen(n) || !allDigits(w) {
			return dst, false
		}
		return appendBCDDigits(p.prefix(dst, n), w, p.leftPad), true
	}
	return p.convert(dst, w, n, buf)
}

// convert is the field converters that are not a plain byte loop.
func (p *fplan) convert(dst, w []byte, n int, buf *[]byte) ([]byte, bool) {
	switch p.op {
	case opBinToHex:
		tn := n
		if p.nmul {
			tn = 2 * n
		}
		if !p.tlen(tn) {
			return dst, false
		}
		dst = slices.Grow(p.prefix(dst, tn), 2*len(w))
		for _, b := range w {
			dst = append(dst, upperHex[b>>4], upperHex[b&0xF])
		}
		return dst, true
	case opTrimText, opPadText:
		return p.text(dst, w)
	case opHexToBin:
		if !p.tlen(n) {
			return dst, false
		}
		dst = slices.Grow(p.prefix(dst, n), n)
		for i := 0; i+1 < len(w); i += 2 {
			hi, lo := hexDigits[w[i]], hexDigits[w[i+1]]
			if hi == notHex || lo == notHex {
				return dst, false
			}
			dst = append(dst, hi<<4|lo)
		}
		return dst, true
	}
	return p.generic(dst, w, n, buf)
}

// text is fixedText between ASCII text fields, then fits and the
// encoder.
func (p *fplan) text(dst, w []byte) ([]byte, bool) {
	if !allASCII(w) {
		return dst, false
	}
	if p.op == opTrimText {
		for len(w) > 0 && w[len(w)-1] == ' ' {
			w = w[:len(w)-1]
		}
		if !p.tlen(len(w)) {
			return dst, false
		}
		return append(p.prefix(dst, len(w)), w...), true
	}
	if len(w) > p.tmax {
		return dst, false
	}
	dst = append(dst, w...)
	for range p.tmax - len(w) {
		dst = append(dst, ' ')
	}
	return dst, true
}

// generic is the value-by-value path's work for one field.
func (p *fplan) generic(dst, w []byte, n int, buf *[]byte) ([]byte, bool) {
	if !p.fc.defined || !p.tc.defined || !p.fc.fast || !p.tc.fast {
		return dst, false
	}
	v, err := p.fc.decodeValue(w, n, buf)
	if err != nil {
		return dst, false
	}
	if v, err = kindConvert(0, v, p.fc.bytesKind, p.tc.bytesKind, buf); err != nil {
		return dst, false
	}
	v = fixedText(v, p.fc, p.tc, buf)
	if p.tc.fits(0, v) != nil {
		return dst, false
	}
	return p.tc.encodeField(dst, v), true
}

func appendMapped(dst, w []byte, table *[256]byte) []byte {
	o := len(dst)
	dst = slices.Grow(dst, len(w))[:o+len(w)]
	out := dst[o:]
	for i, b := range w {
		out[i] = table[b]
	}
	return dst
}

// appendBCDDigits is appendBCD for v of ASCII digits only (checked by
// the caller), 8 or 4 digits packed at a time: a digit's nibble is its low
// half, and the nibbles are paired and then gathered by shifts.
func appendBCDDigits(dst, v []byte, leftPad bool) []byte {
	n := len(v)
	o := len(dst)
	dst = slices.Grow(dst, (n+1)/2)[:o+(n+1)/2]
	out := dst[o:]
	if n&1 == 1 && leftPad && len(out) > 0 {
		out[0], v, out = v[0]&0xF, v[1:], out[1:]
	}
	for len(v) >= 8 && len(out) >= 4 {
		x := binary.BigEndian.Uint64(v) & 0x0F0F0F0F0F0F0F0F
		x = (x>>4 | x) & 0x00FF00FF00FF00FF
		x = (x>>8 | x) & 0x0000FFFF0000FFFF
		binary.BigEndian.PutUint32(out, uint32(x>>16|x)) // #nosec G115 -- the 4 packed bytes
		v, out = v[8:], out[4:]
	}
	if len(v) >= 4 && len(out) >= 2 {
		x := binary.BigEndian.Uint32(v) & 0x0F0F0F0F
		x = (x>>4 | x) & 0x00FF00FF
		binary.BigEndian.PutUint16(out, uint16(x>>8|x)) // #nosec G115 -- the 2 packed bytes
		v, out = v[4:], out[2:]
	}
	if len(v) >= 2 && len(out) >= 1 {
		out[0], v, out = v[0]<<4|v[1]&0xF, v[2:], out[1:]
	}
	if len(v) >= 1 && len(out) >= 1 {
		out[0] = v[0] << 4
	}
	return dst
}

// bcdText is a byte's two BCD digits as ASCII, 0 when a nibble is above 9.
var bcdText = func() (t [256]uint16) {
	for hi := range 10 {
		for lo := range 10 {
			t[hi<<4|lo] = uint16('0'+hi)<<8 | uint16('0'+lo)
		}
	}
	return t
}()

// appendBCDText writes n digits of w: every nibble, the pad one included,
// must be a digit (moov's BCD decoder checks whole bytes). Two bytes are
// converted at a time: fields are short, and the loop's own work is a
// good part of what a byte costs.
func appendBCDText(dst, w []byte, n int, leftPad bool) ([]byte, bool) {
	o := len(dst)
	dst = slices.Grow(dst, 2*len(w))
	if n&1 == 1 && leftPad && len(w) > 0 {
		d := bcdText[w[0]]
		if d == 0 {
			return dst, false
		}
		dst, w = append(dst, byte(d)), w[1:] // the pad nibble's digit is dropped
	}
	p := len(dst)
	out := dst[p : p+2*len(w)]
	for len(w) >= 2 && len(out) >= 4 {
		d1, d2 := bcdText[w[0]], bcdText[w[1]]
		if d1 == 0 || d2 == 0 {
			return dst[:o], false
		}
		binary.BigEndian.PutUint32(out, uint32(d1)<<16|uint32(d2))
		w, out = w[2:], out[4:]
	}
	if len(w) >= 1 && len(out) >= 2 {
		d := bcdText[w[0]]
		if d == 0 {
			return dst[:o], false
		}
		binary.BigEndian.PutUint16(out, d)
	}
	return dst[:o+n], true
}

// appendPrefix writes the length prefix of a value of n characters or
// bytes (small enough to inline the fixed case's test).
func (c *fcodec) appendPrefix(dst []byte, n int) []byte {
	if c.pref == prefFixed {
		return dst
	}
	return c.appendVarPrefix(dst, n)
}

func (c *fcodec) appendVarPrefix(dst []byte, n int) []byte {
	switch c.pref {
	case prefASCII:
		switch c.pdigits {
		case 2:
			return append(dst, byte('0'+n/10%10), byte('0'+n%10))
		case 3:
			return append(dst, byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
		}
	case prefBCD:
		switch c.pdigits {
		case 2:
			return append(dst, byte(n/10%10)<<4|byte(n%10))
		case 3, 4:
			return append(dst, byte(n/1000%10)<<4|byte(n/100%10), byte(n/10%10)<<4|byte(n%10))
		}
	}
	return c.encodePrefix(dst, n)
}

// decode reads the source's field id at off into st.src as decodeField
// does, without its general machinery for a fixed ASCII field (the value
// is the wire bytes, checked).
func (p *xplan) decode(id int, msg []byte, off int, st *xstate) (int, bool) {
	if fp := &p.f[id]; fp.sascii {
		end := off + fp.swire
		if end > len(msg) || !inClass(msg[off:end], fp.sclass) {
			return 0, false
		}
		st.src.set(id, msg[off:end])
		return end, true
	}
	off, err := p.from.decodeField(id, msg, off, &st.src, &st.buf)
	return off, err == nil
}
