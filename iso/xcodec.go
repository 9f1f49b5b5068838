package iso

import (
	"fmt"
	"strings"
	"sync"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
)

// Value encodings the fast path reads and writes itself.
const (
	encOther      uint8 = iota // moov only
	encASCII                   // text, a byte per character
	encEBCDIC                  // text, a byte per character (moov's EBCDIC table)
	encBCD                     // digits, 2 per byte, left-padded with a 0 nibble when odd
	encLBCD                    // digits, 2 per byte, right-padded
	encTrack2                  // digits and '=' (nibble D), right-padded (Track2BCD)
	encSignBCD                 // a sign in ASCII, then BCD digits (SignBCD)
	encEBCDICSign              // a sign in EBCDIC, then BCD digits (EBCDICSignBCD)
	encBinary                  // bytes as they are
	encHexASCII                // bytes as 2 hex characters each (HexToASCII)
)

// Length prefixes the fast path reads and writes itself.
const (
	prefOther  uint8 = iota
	prefFixed        // the spec's length, no prefix
	prefASCII        // decimal digits in ASCII
	prefEBCDIC       // decimal digits in EBCDIC
	prefBCD          // decimal digits in BCD, left-padded
	prefBinary       // big-endian binary of pdigits bytes
)

// moov field types, for the moov path.
const (
	kString uint8 = iota + 1
	kNumeric
	kBinary
	kHex
	kComposite // subfields: moov only; its value is its packed content (moov's Bytes)
)

// fcodec is one field's wire layout, precomputed from the moov spec.
type fcodec struct {
	defined   bool
	fast      bool  // the fast path reads and writes it
	bytesKind bool  // its value is bytes (Binary, Hex), else text
	kind      uint8 // moov field type
	enc       uint8
	pref      uint8
	pdigits   int // prefix digits (bytes for a binary prefix)
	length    int // fixed length, or maximum, in characters or bytes
	prefixMax int // the largest length the prefix can announce
}

// codecSet is every field of one spec: 0 the MTI, 1 the bitmap.
type codecSet struct {
	f         [maxFieldID + 1]fcodec
	bitmapHex bool
	fast      bool // every defined field and the bitmap are fast
}

func newCodecSet(spec *iso8583.MessageSpec) (*codecSet, error) {
	cs := &codecSet{fast: true}
	for id, f := range spec.Fields {
		if id > maxFieldID {
			return nil, xerr(id, "beyond field 128")
		}
		if id == 1 {
			cs.initBitmap(f)
			continue
		}
		c, err := newFcodec(f)
		if err != nil {
			return nil, &TranslateError{Field: id, Reason: err.Error()}
		}
		if id == 0 && (c.bytesKind || c.length != 4) {
			return nil, xerr(0, "the MTI must be 4 characters")
		}
		cs.f[id] = c
		cs.fast = cs.fast && c.fast
	}
	if !cs.f[0].defined {
		return nil, xerr(0, "no MTI in the spec")
	}
	return cs, nil
}

func (cs *codecSet) initBitmap(f field.Field) {
	sp := f.Spec()
	switch {
	case sameType(sp.Enc, encoding.BytesToASCIIHex):
		cs.bitmapHex = true
	case sameType(sp.Enc, encoding.Binary):
	default:
		cs.fast = false
	}
	if (sp.Length != 0 && sp.Length != bitmapBytes) || sp.DisableAutoExpand || !strings.HasSuffix(sp.Pref.Inspect(), ".Fixed") {
		cs.fast = false
	}
}

func newFcodec(f field.Field) (fcodec, error) {
	sp := f.Spec()
	c := fcodec{defined: true, fast: true, length: sp.Length}
	switch f.(type) {
	case *field.String:
		c.kind = kString
	case *field.Numeric:
		c.kind = kNumeric
	case *field.Binary:
		c.kind, c.bytesKind = kBinary, true
	case *field.Hex:
		c.kind, c.bytesKind = kHex, true
	case *field.Composite:
		c.kind, c.fast = kComposite, false
		if sp.Pref == nil {
			return c, fmt.Errorf("composite field without a prefix")
		}
		c.pref, c.pdigits = prefOf(sp.Pref.Inspect())
		c.prefixMax = prefixMax(c.pref, c.pdigits)
		return c, nil
	default:
		return c, fmt.Errorf("field type %T cannot be translated", f)
	}
	if sp.Enc == nil || sp.Pref == nil {
		return c, fmt.Errorf("no encoding or prefix")
	}
	c.enc = encOf(sp.Enc)
	c.pref, c.pdigits = prefOf(sp.Pref.Inspect())
	c.prefixMax = prefixMax(c.pref, c.pdigits)
	if c.enc == encOther || c.pref == prefOther || !encFitsKind(c.enc, c.bytesKind) ||
		(sp.Pad != nil && c.kind != kNumeric) || (c.kind == kNumeric && c.pref != prefFixed) {
		c.fast = false
	}
	if c.kind == kNumeric && sp.Length > maxNumericDigits {
		return c, fmt.Errorf("numeric field longer than %d digits overflows moov's int64", maxNumericDigits)
	}
	return c, nil
}

func encOf(e encoding.Encoder) uint8 {
	switch {
	case sameType(e, encoding.ASCII):
		return encASCII
	case sameType(e, encoding.EBCDIC):
		return encEBCDIC
	case sameType(e, encoding.BCD):
		return encBCD
	case sameType(e, encoding.LBCD):
		return encLBCD
	case sameType(e, Track2BCD):
		return encTrack2
	case sameType(e, encoding.Binary):
		return encBinary
	case sameType(e, encoding.BytesToASCIIHex):
		return encHexASCII
	}
	if s, ok := e.(signBCDEncoder); ok {
		if sameType(s.sign, encoding.EBCDIC) {
			return encEBCDICSign
		}
		return encSignBCD
	}
	return encOther
}

func encFitsKind(enc uint8, bytesKind bool) bool {
	return bytesKind == (enc == encBinary || enc == encHexASCII)
}

func prefOf(name string) (uint8, int) {
	kind, ls, ok := strings.Cut(name, ".")
	if !ok {
		return prefOther, 0
	}
	var p uint8
	switch kind {
	case "ASCII":
		p = prefASCII
	case "EBCDIC":
		p = prefEBCDIC
	case "BCD":
		p = prefBCD
	case "Binary":
		p = prefBinary
	case "Hex":
		if ls == "Fixed" {
			return prefFixed, 0
		}
		return prefOther, 0
	default:
		return prefOther, 0
	}
	if ls == "Fixed" {
		return prefFixed, 0
	}
	if strings.Trim(ls, "L") != "" || len(ls) > 6 {
		return prefOther, 0
	}
	return p, len(ls)
}

// prefixMax is the largest length a prefix can announce (a fixed or
// unknown prefix: no limit of its own).
func prefixMax(pref uint8, digits int) int {
	switch pref {
	case prefASCII, prefEBCDIC, prefBCD:
		return pow10(digits) - 1
	case prefBinary:
		return 1<<(8*min(digits, 3)) - 1
	}
	return 1<<31 - 1
}

// prefixLen is the wire size of c's length prefix.
func (c *fcodec) prefixLen() int {
	switch c.pref {
	case prefASCII, prefEBCDIC, prefBinary:
		return c.pdigits
	case prefBCD:
		return (c.pdigits + 1) / 2
	}
	return 0
}

// wireLen is the wire size of a value of n characters or bytes.
func (c *fcodec) wireLen(n int) int {
	switch c.enc {
	case encBCD, encLBCD, encTrack2:
		return (n + 1) / 2
	case encSignBCD, encEBCDICSign:
		return 1 + n/2
	case encHexASCII:
		return 2 * n
	}
	return n
}

// vals is one message as values: the MTI (0) and fields 2..128.
// A bit per field says which are present: resetting clears three words,
// and walking the present fields skips the absent ones.
type vals struct {
	present [3]uint64
	v       [maxFieldID + 1][]byte
}

// The field numbers are never negative: as unsigned, /64 and %64 are a
// shift and a mask.
func (m *vals) has(id int) bool { return m.present[uint(id)/64]&(1<<(uint(id)%64)) != 0 }

func (m *vals) set(id int, v []byte) { m.present[uint(id)/64] |= 1 << (uint(id) % 64); m.v[id] = v }

func (m *vals) del(id int) { m.present[uint(id)/64] &^= 1 << (uint(id) % 64) }

func (m *vals) get(id int) ([]byte, bool) { return m.v[id], m.has(id) }

// xstate is one translation's scratch: pooled, so that translating does
// not allocate once the pool is warm.
type xstate struct {
	src, dst vals
	buf      []byte // decoded and converted values; never grows past its capacity
	span     [maxFieldID + 1]span93
}

var statePool = sync.Pool{New: func() any { return &xstate{buf: make([]byte, 0, 8192)} }}

func (st *xstate) reset() {
	st.src.present, st.dst.present = [3]uint64{}, [3]uint64{}
	st.buf = st.buf[:0]
}
