package iso

import (
	"encoding/binary"
	"math/bits"
)

// direct is the translation fast path: wire bytes to wire bytes, a field
// at a time through the plan. ok false: it declined (something it does
// not handle, or a check failed) and dst and c are as they were; the
// value-by-value path then decides.
func (t *Translator) direct(st *xstate, dst, msg []byte, c *Carry, toCanon bool) ([]byte, bool) {
	p := t.fromCanon
	if toCanon {
		p = t.toCanon
	}
	if p == nil {
		return dst, false
	}
	if !t.v93 {
		st.buf = st.buf[:0]
		return p.direct87(dst, msg, &st.buf)
	}
	if toCanon {
		return p.from93Direct(st, dst, msg, c)
	}
	return p.to93Direct(st, dst, msg, c)
}

// direct87 translates between two layouts of the same version: every
// field is carried, but the MACs, so the target's bitmap is the source's
// without 64 and 128 and is written before the fields.
func (p *xplan) direct87(dst, msg []byte, buf *[]byte) ([]byte, bool) {
	start := len(dst)
	dst, off, bm, ok := p.head87(dst, msg, buf)
	if !ok {
		return dst[:start], false
	}
	var run copyRun
	for w, word := range bm {
		if w == 0 {
			word &^= 1 << 63
		}
		for ; word != 0; word &^= 1 << (63 - bits.LeadingZeros64(word)) {
			id := w*64 + bits.LeadingZeros64(word) + 1
			fp, wl := &p.f[id], p.f[id].swire
			isMAC := id == macPrimary || id == macSecondary
			if fp.kern == kernRun && !isMAC && len(msg)-off >= wl {
				if ok = run.grow(off, off+wl, fp.class); !ok {
					dst, ok = run.restart(dst, msg, off, off+wl, fp.class)
				}
				off += wl
			} else if dst, ok = run.flush(dst, msg); ok {
				// a fixed field is converted without xfer, and a fixed
				// BCD or digit field without value: most fields are fixed,
				// and a call is a good part of what one costs
				*buf = (*buf)[:0]
				switch {
				case isMAC:
					off, ok = fp.skip(msg, off, buf)
				case wl < 0 || len(msg)-off < wl:
					dst, off, ok = fp.xfer(dst, msg, off, buf)
				default:
					v := msg[off : off+wl]
					off += wl
					switch fp.kern {
					case kernBCDText:
						dst, ok = appendBCDText(dst, v, fp.slen, fp.leftPad)
					case kernTextBCD:
						if ok = allDigits(v); ok {
							dst = appendBCDDigits(dst, v, fp.leftPad)
						}
					default:
						dst, ok = fp.value(dst, v, fp.slen, buf)
					}
				}
			}
			if !ok {
				return dst[:start], false
			}
		}
	}
	if dst, ok = run.flush(dst, msg); !ok || off != len(msg) {
		return dst[:start], false
	}
	return dst, true
}

// head87 converts the MTI and writes the target's bitmap: the source's
// without the MACs.
func (p *xplan) head87(dst, msg []byte, buf *[]byte) ([]byte, int, [2]uint64, bool) {
	var bm [2]uint64
	dst, off, ok := p.f[0].xfer(dst, msg, 0, buf)
	if !ok {
		return dst, 0, bm, false
	}
	off, err := p.from.decodeBitmap(msg, off, &bm)
	if err != nil {
		return dst, 0, bm, false
	}
	out := [2]uint64{bm[0] &^ (1<<63 | 1), bm[1] &^ 1}
	if out[1] != 0 {
		out[0] |= 1 << 63
	}
	return p.to.appendBitmap(dst, out), off, bm, true
}

// skip checks a field that is not carried (a MAC) as the decoder would,
// and returns where the next field starts.
func (p *fplan) skip(msg []byte, off int, buf *[]byte) (int, bool) {
	fc := p.fc
	if !fc.defined || !fc.fast {
		return 0, false
	}
	n, off, err := fc.decodeLength(msg, off)
	if err != nil || len(msg)-off < fc.wireLen(n) {
		return 0, false
	}
	*buf = (*buf)[:0]
	_, err = fc.decodeValue(msg[off:off+fc.wireLen(n)], n, buf)
	return off + fc.wireLen(n), err == nil
}

// appendBitmap writes the primary bitmap and, when bit 1 says so, the
// secondary.
func (cs *codecSet) appendBitmap(dst []byte, bm [2]uint64) []byte {
	for i := range 1 + int(bm[0]>>63) {
		if cs.bitmapHex {
			var h [16]byte
			for j := range 8 {
				binary.BigEndian.PutUint16(h[2*j:], hexPair[byte(bm[i]>>(56-8*uint(j)))])
			}
			dst = append(dst, h[:]...)
		} else {
			dst = binary.BigEndian.AppendUint64(dst, bm[i])
		}
	}
	return dst
}

// isNeeded93 are the fields to93 reads or drops (and the MACs, which are
// checked, not carried): to93Direct decodes them into values, which
// checks them; every other field is converted from its wire bytes.
var isNeeded93 = func() (t [maxFieldID + 1]bool) {
	for _, id := range []int{0, 7, 12, 13, 22, 24, 25, 39, 56, 64, 70, 90, 128} {
		t[id] = true
	}
	return t
}()

// to93Direct translates a canonical message to a 1993 dialect in two
// passes (12 needs 13, which comes after it; 24 needs 70; 56 needs 90):
// scan decodes the fields the rules read, the rules run on them as
// values, and emit converts every other field from its wire bytes. c.sent,
// the only part of c the rules write, is put back when it declines.
func (p *xplan) to93Direct(st *xstate, dst, msg []byte, c *Carry) ([]byte, bool) {
	st.reset()
	if cap(st.buf) < 2*len(msg)+64 {
		return dst, false
	}
	if !p.scan(st, msg) {
		return dst, false
	}
	var saved sentData
	if c != nil {
		saved = c.sent
	}
	start := len(dst)
	err := to93(st, c)
	ok := err == nil
	if ok {
		dst, ok = p.emit(st, dst, msg)
	}
	if !ok {
		if c != nil {
			c.sent = saved
		}
		return dst[:start], false
	}
	return dst, true
}

// scan reads the MTI, the bitmap and every field's length: the fields of
// isNeeded93 into st.src as values, the others as spans of msg.
func (p *xplan) scan(st *xstate, msg []byte) bool {
	from, src := p.from, &st.src
	off, err := from.decodeField(0, msg, 0, src, &st.buf)
	if err != nil {
		return false
	}
	var bm [2]uint64
	if off, err = from.decodeBitmap(msg, off, &bm); err != nil {
		return false
	}
	for w, word := range bm {
		if w == 0 {
			word &^= 1 << 63
		}
		for ; word != 0; word &^= 1 << (63 - bits.LeadingZeros64(word)) {
			id := w*64 + bits.LeadingZeros64(word) + 1
			if isNeeded93[id] {
				start, ok := off, false
				if off, ok = p.decode(id, msg, off, st); !ok {
					return false
				}
				// a fixed ASCII value is its wire bytes: emit may copy them
				st.span[id] = span93{off: int32(start), n: int32(off - start), end: int32(off)} // #nosec G115 -- within msg
				continue
			}
			if fp := &p.f[id]; fp.swire >= 0 {
				if len(msg)-off < fp.swire {
					return false
				}
				src.present[uint(id)/64] |= 1 << (uint(id) % 64)
				st.span[id] = span93{off: int32(off), n: int32(fp.slen), end: int32(off + fp.swire)} // #nosec G115 -- within msg
				off += fp.swire
				continue
			}
			fc := &from.f[id]
			if !fc.defined {
				return false
			}
			n, voff, err := fc.decodeLength(msg, off)
			if err != nil || len(msg)-voff < fc.wireLen(n) {
				return false
			}
			src.present[uint(id)/64] |= 1 << (uint(id) % 64)
			st.span[id] = span93{off: int32(voff), n: int32(n), end: int32(voff + fc.wireLen(n))} // #nosec G115 -- within msg
			off = voff + fc.wireLen(n)
		}
	}
	return off == len(msg)
}

// span93 is where a field's value is in the message, and its length.
type span93 struct{ off, n, end int32 }

// emit writes the message: the values the rules made (in st.dst) and the
// source's other fields converted from their wire bytes, in field order.
func (p *xplan) emit(st *xstate, dst, msg []byte) ([]byte, bool) {
	src, vals := &st.src, &st.dst
	var set [3]uint64
	for i := range set {
		set[i] = src.present[i] | vals.present[i]
	}
	set[0] &^= 1<<0 | 1<<1
	set[1] &^= 1 << (macPrimary % 64)
	set[2] &^= 1 << (macSecondary % 64)
	bm := [2]uint64{bits.Reverse64(set[0])<<1 | set[1]&1, bits.Reverse64(set[1]&^1)<<1 | set[2]&1}
	if bm[1] != 0 {
		bm[0] |= 1 << 63
	}
	dst = p.to.appendBitmap(p.to.f[0].encodeField(dst, vals.v[0]), bm)
	var ok bool
	var run copyRun
	for w, word := range set {
		for ; word != 0; word &= word - 1 {
			id := w*64 + bits.TrailingZeros64(word)
			// a needed field copied as it is (7, 70) is fixed ASCII like
			// the others of a run: its value is its span's bytes
			if fp, s := &p.f[id], st.span[id]; fp.kern == kernRun && !vals.has(id) {
				if !run.grow(int(s.off), int(s.end), fp.class) {
					if dst, ok = run.restart(dst, msg, int(s.off), int(s.end), fp.class); !ok {
						return dst, false
					}
				}
				continue
			}
			if dst, ok = run.flush(dst, msg); !ok {
				return dst, false
			}
			if vals.has(id) {
				dst = p.to.f[id].encodeField(dst, vals.v[id])
				continue
			}
			fp, s := &p.f[id], st.span[id]
			if isNeeded93[id] {
				// a needed field the rules left to be copied: its value
				// is decoded already.
				if dst, ok = fp.fromValue(dst, id, src.v[id], &st.buf); !ok {
					return dst, false
				}
				continue
			}
			if dst, ok = fp.value(dst, msg[s.off:s.end], int(s.n), &st.buf); !ok {
				return dst, false
			}
		}
	}
	return run.flush(dst, msg)
}

// fromValue is copyField for a value already decoded.
func (p *fplan) fromValue(dst []byte, id int, v []byte, buf *[]byte) ([]byte, bool) {
	if !p.tc.defined {
		return dst, false
	}
	v, err := kindConvert(id, v, p.fc.bytesKind, p.tc.bytesKind, buf)
	if err != nil {
		return dst, false
	}
	v = fixedText(v, p.fc, p.tc, buf)
	if p.tc.fits(id, v) != nil {
		return dst, false
	}
	return p.tc.encodeField(dst, v), true
}

// hexPair is a byte's two uppercase hex characters.
var hexPair = func() (t [256]uint16) {
	for i := range t {
		t[i] = uint16(upperHex[i>>4])<<8 | uint16(upperHex[i&0xF])
	}
	return t
}()
