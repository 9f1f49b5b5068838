package iso

import "math/bits"

// from93Direct translates a 1993 message to the canonical form in one
// pass: every rule of from93 reads only its own field or fields before
// it, and what it makes for a later place (70 from 24, 90 from 56) waits
// until the walk gets there. It declines as direct does; c is written
// (its half filled) only once the message is through.
func (p *xplan) from93Direct(st *xstate, dst, msg []byte, c *Carry) ([]byte, bool) {
	st.reset()
	if cap(st.buf) < 2*len(msg)+64 {
		return dst, false
	}
	w := walk93{p: p, st: st, msg: msg, c: c}
	off, ok := w.head()
	if !ok {
		return dst, false
	}
	start := len(dst)
	dst = p.to.appendBitmap(p.to.f[0].encodeField(dst, w.mti), w.out)
	if dst, ok = w.fields(dst, off); !ok {
		return dst[:start], false
	}
	if c != nil {
		h := &c.req
		if isAnswer(st.src.v[0]) {
			h = &c.ans
		}
		h.fill(st.src.v[0], &st.src)
	}
	return dst, true
}

// walk93 is one pass of from93Direct.
type walk93 struct {
	p              *xplan
	st             *xstate
	msg            []byte
	c              *Carry
	mti            []byte    // the 1987 MTI
	in             [3]uint64 // the source's fields, by number
	bm             [2]uint64 // the source's bitmap
	out            [2]uint64 // the target's bitmap
	pend70, pend90 []byte
}

func (w *walk93) has(id int) bool { return w.in[uint(id)/64]&(1<<(uint(id)%64)) != 0 }

// head reads the MTI and the bitmap, refuses (declines) what from93
// refuses from them alone, and works out the target's bitmap.
func (w *walk93) head() (int, bool) {
	src := &w.st.src
	off, err := w.p.from.decodeField(0, w.msg, 0, src, &w.st.buf)
	if err != nil {
		return 0, false
	}
	var ok bool
	if w.mti, ok = mtiMap(src.v[0], false); !ok {
		return 0, false
	}
	if off, err = w.p.from.decodeBitmap(w.msg, off, &w.bm); err != nil {
		return 0, false
	}
	// the wire counts from the top bit = field 1; w.in from bit 0 = field 0
	w.in = [3]uint64{bits.Reverse64(w.bm[0]&^(1<<63)) << 1, bits.Reverse64(w.bm[1])<<1 | w.bm[0]&1, w.bm[1] & 1}
	if w.in[0]&versionRefusedSet[0]|w.in[1]&versionRefusedSet[1]|w.in[2]&versionRefusedSet[2] != 0 {
		return 0, false
	}
	if w.has(90) {
		return 0, false
	}
	o := w.in
	o[0] &^= 1<<13 | 1<<24 | 1<<56
	o[1] &^= 1 << (macPrimary % 64)
	o[2] &^= 1 << (macSecondary % 64)
	if w.has(12) {
		o[0] |= 1 << 13
	}
	if w.has(24) && w.mti[1] == '8' && !w.has(70) {
		o[1] |= 1 << (70 % 64)
	}
	if w.has(56) {
		o[1] |= 1 << (90 % 64)
	}
	w.out = [2]uint64{bits.Reverse64(o[0])<<1 | o[1]&1, bits.Reverse64(o[1]&^1)<<1 | o[2]&1}
	if w.out[1] != 0 {
		w.out[0] |= 1 << 63
	}
	return off, true
}

// fields walks the source's fields in order.
func (w *walk93) fields(dst []byte, off int) ([]byte, bool) {
	ok := true
	var run copyRun
	for wd, word := range w.bm {
		if wd == 0 {
			word &^= 1 << 63
		}
		for ; word != 0; word &^= 1 << (63 - bits.LeadingZeros64(word)) {
			id := wd*64 + bits.LeadingZeros64(word) + 1
			fp := &w.p.f[id]
			if fp.kern == kernRun && !isRuleFrom93[id] && w.pend70 == nil && w.pend90 == nil && len(w.msg)-off >= fp.swire {
				if ok = run.grow(off, off+fp.swire, fp.class); !ok {
					dst, ok = run.restart(dst, w.msg, off, off+fp.swire, fp.class)
				}
				off += fp.swire
			} else if dst, ok = run.flush(dst, w.msg); ok {
				if w.pend70 != nil || w.pend90 != nil {
					dst = w.flush(dst, id)
				}
				switch {
				case isRuleFrom93[id] && id != macPrimary && id != macSecondary:
					dst, off, ok = w.rule(dst, id, off)
				case isRuleFrom93[id]:
					off, ok = fp.skip(w.msg, off, &w.st.buf)
				case fp.swire >= 0 && len(w.msg)-off >= fp.swire: // as in direct87
					dst, ok = fp.value(dst, w.msg[off:off+fp.swire], fp.slen, &w.st.buf)
					off += fp.swire
				default:
					dst, off, ok = fp.xfer(dst, w.msg, off, &w.st.buf)
				}
			}
			if !ok {
				return dst, false
			}
		}
	}
	if dst, ok = run.flush(dst, w.msg); !ok {
		return dst, false
	}
	return w.flush(dst, maxFieldID+1), off == len(w.msg)
}

// isRuleFrom93 are the fields fields does not convert as they are: those
// the version rules read (rule) and the MACs (checked, not carried).
var isRuleFrom93 = func() (t [maxFieldID + 1]bool) {
	for _, id := range []int{12, 13, 22, 24, 25, 39, 56, macPrimary, macSecondary} {
		t[id] = true
	}
	return t
}()

// flush writes the values made for places before id.
func (w *walk93) flush(dst []byte, id int) []byte {
	if w.pend70 != nil && id > 70 {
		dst, w.pend70 = w.p.to.f[70].encodeField(dst, w.pend70), nil
	}
	if w.pend90 != nil && id > 90 {
		dst, w.pend90 = w.p.to.f[90].encodeField(dst, w.pend90), nil
	}
	return dst
}

// rule reads a field the version rules convert and writes (or holds) what
// they make of it, as from93Fields does.
func (w *walk93) rule(dst []byte, id, off int) ([]byte, int, bool) {
	st, to := w.st, w.p.to
	off, ok := w.p.decode(id, w.msg, off, st)
	if !ok {
		return dst, 0, false
	}
	v := st.src.v[id]
	switch id {
	case 12:
		if len(v) != 12 || !allDigits(v) {
			return dst, 0, false
		}
		dst = to.f[13].encodeField(to.f[12].encodeField(dst, v[6:12]), v[2:6])
	case 22:
		dst = to.f[22].encodeField(dst, entryModeTo87(v, &st.buf))
	case 24:
		if w.mti[1] == '8' && !w.has(70) {
			nm, ok := netCodeFrom24(v)
			if !ok {
				return dst, 0, false
			}
			w.pend70 = nm
		}
	case 25:
		if len(v) != 4 || !allDigits(v) {
			return dst, 0, false
		}
		dst = to.f[25].encodeField(dst, reasonTo87(v))
	case 39:
		dst = to.f[39].encodeField(dst, actionTo87(v))
	case 56:
		f90, err := original56To90(v, w.c, &st.buf)
		if err != nil {
			return dst, 0, false
		}
		w.pend90 = f90
	}
	return dst, off, true
}
