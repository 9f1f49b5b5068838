package iso

import "math/bits"

// to93Direct translates a canonical message to a 1993 dialect in one
// pass. The rules' values are made where they go, from fields read before
// them or looked ahead for (13 or 7 for 12, 70 for 24, 90 for 56), and
// restore's choices are made per field; it declines as direct does, with
// c.sent (the only part the rules write) put back.
func (p *xplan) to93Direct(st *xstate, dst, msg []byte, c *Carry) ([]byte, bool) {
	st.reset()
	if cap(st.buf) < 2*len(msg)+64 {
		return dst, false
	}
	w := walkTo93{p: p, st: st, msg: msg, c: c}
	off, ok := w.head()
	if !ok {
		return dst, false
	}
	var saved sentData
	if c != nil {
		saved = c.sent
	}
	start := len(dst)
	dst = p.to.appendBitmap(p.to.f[0].encodeField(dst, w.mti), w.outBitmap())
	if dst, ok = w.fields(dst, off); !ok {
		if c != nil {
			c.sent = saved
		}
		return dst[:start], false
	}
	return dst, true
}

// walkTo93 is one pass of to93Direct.
type walkTo93 struct {
	p            *xplan
	st           *xstate
	msg          []byte
	c            *Carry
	mti          []byte    // the 1993 MTI
	bm           [2]uint64 // the source's bitmap
	in, out      [3]uint64 // the source's fields and the target's, by number
	reqOK, ansOK bool      // restore puts back the request's, the answer's values
}

func bit(set *[3]uint64, id int) bool { return set[id/64]&(1<<uint(id%64)) != 0 }

// head reads the MTI and the bitmap, declines what to93 refuses from them
// alone, and works out the target's fields.
func (w *walkTo93) head() (int, bool) {
	src := &w.st.src
	off, err := w.p.from.decodeField(0, w.msg, 0, src, &w.st.buf)
	if err != nil {
		return 0, false
	}
	var ok bool
	if w.mti, ok = mtiMap(src.v[0], true); !ok {
		return 0, false
	}
	if off, err = w.p.from.decodeBitmap(w.msg, off, &w.bm); err != nil {
		return 0, false
	}
	w.in = [3]uint64{bits.Reverse64(w.bm[0]&^(1<<63)) << 1, bits.Reverse64(w.bm[1])<<1 | w.bm[0]&1, w.bm[1] & 1}
	for wd, word := range w.in {
		for ; word != 0; word &= word - 1 {
			if versionRefused[wd*64+bits.TrailingZeros64(word)] {
				return 0, false
			}
		}
	}
	if bit(&w.in, 56) || bit(&w.in, 13) && !bit(&w.in, 12) {
		return 0, false
	}
	if c := w.c; c != nil {
		h := &c.req
		w.reqOK = h.ok && (string(h.mti[:]) == string(w.mti) || isAnswer(w.mti) && answers(h.mti[:], w.mti))
		w.ansOK = isAnswer(w.mti) && c.ans.ok && string(c.ans.mti[:]) == string(w.mti)
	}
	o := w.in
	o[0] &^= 1<<1 | 1<<13 | 1<<24
	o[1] &^= 1<<(macPrimary%64) | 1<<(90%64)
	o[2] &^= 1 << (macSecondary % 64)
	switch w.mti[1] {
	case '8':
		o[1] &^= 1 << (70 % 64)
		o[0] |= 1 << 24
	case '1', '2', '4':
		o[0] |= 1 << 24
	}
	if bit(&w.in, 90) {
		o[0] |= 1 << 56
	}
	if w.restores(slot13) {
		o[0] |= 1 << 13
	}
	w.out = o
	return off, true
}

func (w *walkTo93) outBitmap() [2]uint64 {
	o := &w.out
	bm := [2]uint64{bits.Reverse64(o[0]&^3)<<1 | o[1]&1, bits.Reverse64(o[1]&^1)<<1 | o[2]&1}
	if bm[1] != 0 {
		bm[0] |= 1 << 63
	}
	return bm
}

// restores: restore puts back a carried value for the slot.
func (w *walkTo93) restores(s int) bool {
	return w.reqOK && w.c.req.slot[s].ok || w.ansOK && w.c.ans.slot[s].ok
}

// restored is the slot's value as restore leaves it: the request's
// carried value, else the answer's, else v.
func (w *walkTo93) restored(s int, v []byte) []byte {
	switch {
	case w.reqOK && w.c.req.slot[s].ok:
		return w.c.req.slot[s].value()
	case w.ansOK && w.c.ans.slot[s].ok:
		return w.c.ans.slot[s].value()
	}
	return v
}

// ruleOut are the target's fields the rules make.
var ruleOut = [3]uint64{1<<12 | 1<<13 | 1<<22 | 1<<24 | 1<<25 | 1<<39 | 1<<56}

// fields walks the source's and the target's fields together, in order.
func (w *walkTo93) fields(dst []byte, off int) ([]byte, bool) {
	ok := true
	for wd := range w.in {
		word := w.in[wd] | w.out[wd]
		if wd == 0 {
			word &^= 3
		}
		for ; word != 0; word &= word - 1 {
			id := wd*64 + bits.TrailingZeros64(word)
			if bit(&w.in, id) {
				if dst, off, ok = w.source(dst, id, off); !ok {
					return dst, false
				}
			}
			if bit(&ruleOut, id) && bit(&w.out, id) {
				if dst, ok = w.rule(dst, id, off); !ok {
					return dst, false
				}
			}
		}
	}
	return dst, off == len(w.msg)
}

// source reads the source's field id at off: copied, or decoded for the
// rules, or checked only (the MACs).
func (w *walkTo93) source(dst []byte, id, off int) ([]byte, int, bool) {
	st, fp := w.st, &w.p.f[id]
	switch {
	case id == macPrimary || id == macSecondary:
		off, ok := fp.skip(w.msg, off, &st.buf)
		return dst, off, ok
	case bit(&ruleOut, id) || id == 13 || id == 90 || id == 70 && w.mti[1] == '8':
		off, err := w.p.from.decodeField(id, w.msg, off, &st.src, &st.buf)
		return dst, off, err == nil
	case id == 7:
		off, err := w.p.from.decodeField(id, w.msg, off, &st.src, &st.buf)
		if err != nil {
			return dst, 0, false
		}
		dst, ok := fp.fromValue(dst, id, st.src.v[id], &st.buf)
		return dst, off, ok
	}
	return fp.xfer(dst, w.msg, off, &st.buf)
}

// rule writes the target's field id as to93Fields and restore make it;
// off is where the source's fields after id start.
func (w *walkTo93) rule(dst []byte, id, off int) ([]byte, bool) {
	st, to := w.st, &w.p.to.f[id]
	src := &st.src
	switch id {
	case 12:
		if bit(&w.in, 13) && !w.peek(13, id+1, off) || dateTime93(st) != nil {
			return dst, false
		}
		return to.encodeField(dst, w.restored(slot12, st.dst.v[12])), true
	case 13:
		return to.encodeField(dst, w.restored(slot13, nil)), true
	case 22:
		return to.encodeField(dst, w.restored(slot22, entryModeTo93(src.v[22], &st.buf))), true
	case 24:
		if w.mti[1] == '8' && bit(&w.in, 70) && !w.peek(70, id+1, off) {
			return dst, false
		}
		fc, err := functionCode(w.mti, src)
		if err != nil {
			return dst, false
		}
		return to.encodeField(dst, w.restored(slot24, fc)), true
	case 25:
		reserve(&st.buf, 4)
		start := len(st.buf)
		st.buf = append(append(st.buf, '0', '0'), src.v[25]...)
		return to.encodeField(dst, w.restored(slot25, st.buf[start:])), true
	case 39:
		v := responseTo93(src.v[39])
		if h := &w.c.ans; w.ansOK && h.slot[slot39].ok && string(actionTo87(h.slot[slot39].value())) == string(src.v[39]) {
			v = h.slot[slot39].value()
		}
		return to.encodeField(dst, v), true
	case 56:
		if !w.peek(90, id+1, off) {
			return dst, false
		}
		f56, err := original90To56(src.v[90], w.c, &st.buf)
		if err != nil {
			return dst, false
		}
		return to.encodeField(dst, w.restored(slot56, f56)), true
	}
	return dst, false
}

// peek decodes the source's field x ahead of the walk: from is the first
// field number the walk has not read, off where it starts.
func (w *walkTo93) peek(x, from, off int) bool {
	for wd := from / 64; wd <= x/64; wd++ {
		word := w.in[wd]
		if wd == from/64 {
			word &^= 1<<uint(from%64) - 1
		}
		for ; word != 0; word &= word - 1 {
			id := wd*64 + bits.TrailingZeros64(word)
			if id == x {
				_, err := w.p.from.decodeField(x, w.msg, off, &w.st.src, &w.st.buf)
				return err == nil
			}
			fc := &w.p.from.f[id]
			if id > x || !fc.defined {
				return false
			}
			n, voff, err := fc.decodeLength(w.msg, off)
			if err != nil || len(w.msg)-voff < fc.wireLen(n) {
				return false
			}
			off = voff + fc.wireLen(n)
		}
	}
	return false
}
