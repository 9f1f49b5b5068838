package iso

import (
	"errors"
	"strconv"
	"strings"

	"github.com/moov-io/iso8583"
	moverrors "github.com/moov-io/iso8583/errors"
	"github.com/moov-io/iso8583/field"
)

func (t *Translator) specs(toCanon bool) (from, to *iso8583.MessageSpec) {
	if toCanon {
		return t.spec, Spec87()
	}
	return Spec87(), t.spec
}

// moov translates with moov's full unpack and pack: the reference the
// fast path is held to, and the path for what the fast path does not
// read (encodings or prefixes it does not know, odd wire forms).
func (t *Translator) moov(dst, msg []byte, c *Carry, toCanon bool) ([]byte, error) {
	fromSpec, toSpec := t.specs(toCanon)
	from, to := t.sides(toCanon)
	in := iso8583.NewMessage(fromSpec)
	if err := in.Unpack(msg); err != nil {
		return dst, unpackErr(err)
	}
	if again, err := in.Pack(); err != nil || !sameLength(in, from, msg, len(again)) {
		return dst, ErrTrailingData
	}
	st := &xstate{buf: make([]byte, 0, 4*len(msg)+256)}
	if err := moovValues(in, from, &st.src); err != nil {
		return dst, err
	}
	if err := t.convert(st, c, toCanon); err != nil {
		return dst, err
	}
	out := iso8583.NewMessage(toSpec)
	if err := setMoovValues(out, to, &st.dst); err != nil {
		return dst, err
	}
	packed, err := out.Pack()
	if err != nil {
		return dst, xerr(0, "the target dialect cannot pack the message")
	}
	return append(dst, packed...), nil
}

// sameLength: moov's Unpack ignores bytes after the last field, so the
// message is repacked to find them. A secondary bitmap announced (bit 1)
// with no field in it is not repacked: it counts as read.
func sameLength(in *iso8583.Message, cs *codecSet, msg []byte, repacked int) bool {
	if repacked == len(msg) {
		return true
	}
	off, size := cs.f[0].wireLen(4), bitmapBytes
	if cs.bitmapHex {
		size *= 2
	}
	if len(msg) <= off {
		return false
	}
	announced := msg[off]&0x80 != 0
	if cs.bitmapHex {
		d, ok := hexVal(msg[off])
		announced = ok && d >= 8
	}
	for id := range in.GetFields() {
		if id > 64 {
			return false
		}
	}
	return announced && repacked+size == len(msg)
}

// unpackErr names the field moov could not read, without its bytes.
func unpackErr(err error) error {
	var ue *moverrors.UnpackError
	if errors.As(err, &ue) {
		if id, e := strconv.Atoi(ue.FieldID); e == nil {
			return xerr(id, "unreadable in the source dialect")
		}
	}
	return xerr(0, "unreadable in the source dialect")
}

// moovValues takes every field's value from in: a Numeric's wire digits
// (moov keeps an int, so they are its digits left-padded to the fixed
// length), a String's text, a Binary's or Hex's bytes.
func moovValues(in *iso8583.Message, cs *codecSet, m *vals) error {
	mti, err := in.GetMTI()
	if err != nil {
		return xerr(0, "no MTI")
	}
	m.set(0, []byte(mti))
	for id, f := range in.GetFields() {
		if id < 2 {
			continue
		}
		v, err := moovValue(f, &cs.f[id])
		if err != nil {
			return xerr(id, "unreadable in the source dialect")
		}
		m.set(id, v)
	}
	return nil
}

func moovValue(f field.Field, c *fcodec) ([]byte, error) {
	switch x := f.(type) {
	case *field.Numeric:
		if x.Value() < 0 {
			return nil, errors.New("negative")
		}
		s := strconv.FormatInt(x.Value(), 10)
		if c.pref == prefFixed && len(s) < c.length {
			s = strings.Repeat("0", c.length-len(s)) + s
		}
		return []byte(s), nil
	case *field.String:
		return []byte(x.Value()), nil
	}
	return f.Bytes()
}

func setMoovValues(out *iso8583.Message, cs *codecSet, m *vals) error {
	out.MTI(string(m.v[0]))
	for id := 2; id <= maxFieldID; id++ {
		v, ok := m.get(id)
		if !ok {
			continue
		}
		var err error
		switch cs.f[id].kind {
		case kNumeric:
			var n int64
			if n, err = strconv.ParseInt(string(v), 10, 64); err == nil {
				err = out.Field(id, strconv.FormatInt(n, 10))
			}
		case kString:
			err = out.Field(id, string(v))
		default:
			err = out.BinaryField(id, v)
		}
		if err != nil {
			return xerr(id, "the target dialect cannot hold the value")
		}
	}
	return nil
}
