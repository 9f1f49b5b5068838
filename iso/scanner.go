package iso

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
)

// check is the content validation moov's unpacking implies for a field.
type check uint8

const (
	checkNone   check = iota // Binary / ASCIIToHex encodings accept any byte
	checkASCII               // ASCII encoding rejects bytes > 127
	checkDigits              // Numeric: digits only (stricter than moov, which accepts a sign)
	checkHex                 // HexToASCII: hex digits, either case
)

// maxNumericDigits is the longest Numeric field moov can unpack for sure:
// it parses Numeric values into an int64.
const maxNumericDigits = 18

// bitmapBytes is the only bitmap size the scanner supports (64 bits).
const bitmapBytes = 8

// fieldInfo is what Scan needs to know about one field, precomputed from
// the moov spec so that scanning needs no interface calls.
type fieldInfo struct {
	defined      bool
	prefixDigits int8  // ASCII length prefix digits; 0 for fixed fields
	hex          bool  // wire bytes = 2 * length (HexToASCII)
	check        check // content validation
	length       int32 // fixed length, or maximum for variable fields (moov units)
}

// Scanner scans frames of one spec without allocating. It is immutable
// after NewScanner and safe for concurrent use.
type Scanner struct {
	fields     [maxFieldID + 1]fieldInfo
	bitmapHex  bool // bitmap as 16 hex characters, else 8 binary bytes
	autoExpand bool // bit 1 announces the secondary bitmap
}

// NewScanner precomputes field layouts from spec. It fails for spec
// features the scanner cannot check exactly as moov would: composite
// fields, encodings other than ASCII/Binary/HexToASCII/ASCIIToHex, length
// prefixes other than fixed or ASCII, bitmaps other than 8 bytes.
func NewScanner(spec *iso8583.MessageSpec) (*Scanner, error) {
	if spec == nil {
		return nil, fmt.Errorf("iso: nil spec")
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("iso: %w", err)
	}
	s := &Scanner{}
	if err := s.initMTI(spec.Fields[0]); err != nil {
		return nil, err
	}
	if err := s.initBitmap(spec.Fields[1]); err != nil {
		return nil, err
	}
	for id, f := range spec.Fields {
		if id < 2 {
			continue
		}
		if id > maxFieldID {
			return nil, fmt.Errorf("iso: field %d: beyond field %d", id, maxFieldID)
		}
		info, err := newFieldInfo(f)
		if err != nil {
			return nil, fmt.Errorf("iso: field %d: %w", id, err)
		}
		s.fields[id] = info
	}
	return s, nil
}

// initMTI checks that the spec's MTI is what Scan hardcodes: 4 ASCII bytes.
func (s *Scanner) initMTI(f field.Field) error {
	sp := f.Spec()
	if sp.Length != 4 || !sameType(sp.Enc, encoding.ASCII) || sp.Pref.Inspect() != "ASCII.Fixed" {
		return fmt.Errorf("iso: field 0: MTI must be 4 ASCII characters")
	}
	return nil
}

func (s *Scanner) initBitmap(f field.Field) error {
	sp := f.Spec()
	if sp.Length != 0 && sp.Length != bitmapBytes {
		return fmt.Errorf("iso: field 1: bitmap length %d not supported", sp.Length)
	}
	switch {
	case sameType(sp.Enc, encoding.BytesToASCIIHex):
		s.bitmapHex = true
	case sameType(sp.Enc, encoding.Binary):
	default:
		return fmt.Errorf("iso: field 1: bitmap encoding not supported")
	}
	if !strings.HasSuffix(sp.Pref.Inspect(), ".Fixed") {
		return fmt.Errorf("iso: field 1: bitmap prefix must be fixed")
	}
	s.autoExpand = !sp.DisableAutoExpand
	return nil
}

func newFieldInfo(f field.Field) (fieldInfo, error) {
	sp := f.Spec()
	info := fieldInfo{defined: true}
	numeric := false
	switch f.(type) {
	case *field.String, *field.Binary, *field.Hex:
	case *field.Numeric:
		numeric = true
	default:
		return info, fmt.Errorf("field type %T not supported", f)
	}
	if len(sp.Subfields) > 0 || sp.Enc == nil || sp.Pref == nil {
		return info, fmt.Errorf("composite or incomplete field not supported")
	}
	switch {
	case sameType(sp.Enc, encoding.ASCII):
		info.check = checkASCII
	case sameType(sp.Enc, encoding.Binary), sameType(sp.Enc, encoding.ASCIIHexToBytes):
		info.check = checkNone
	case sameType(sp.Enc, encoding.BytesToASCIIHex):
		info.check, info.hex = checkHex, true
	default:
		return info, fmt.Errorf("encoding %T not supported", sp.Enc)
	}
	if numeric {
		if info.hex {
			return info, fmt.Errorf("numeric field with hex encoding not supported")
		}
		if sp.Length > maxNumericDigits {
			return info, fmt.Errorf("numeric field longer than %d digits overflows moov's int64", maxNumericDigits)
		}
		info.check = checkDigits
	}
	return info, initLength(&info, sp)
}

// initLength takes the field's length from moov's prefixer: fixed
// prefixers report it through DecodeLength; ASCII variable prefixers are
// parsed by Scan itself (moov's DecodeLength allocates).
func initLength(info *fieldInfo, sp *field.Spec) error {
	name := sp.Pref.Inspect()
	if sp.Length < 0 || sp.Length > 1<<20 {
		return fmt.Errorf("length %d out of range", sp.Length)
	}
	info.length = int32(sp.Length) // #nosec G115 -- range checked above
	if strings.HasPrefix(name, "ASCII.L") {
		digits := len(name) - len("ASCII.")
		if strings.Trim(name[len("ASCII."):], "L") != "" || digits > 6 {
			return fmt.Errorf("prefix %s not supported", name)
		}
		info.prefixDigits = int8(digits) // #nosec G115 -- at most 6
		return nil
	}
	if !strings.HasSuffix(name, ".Fixed") || name == "None.Fixed" {
		return fmt.Errorf("prefix %s not supported", name)
	}
	var probe [8]byte
	n, read, err := sp.Pref.DecodeLength(sp.Length, probe[:])
	if err != nil || read != 0 || n != sp.Length {
		return fmt.Errorf("prefix %s not supported", name)
	}
	return nil
}

// sameType compares encoders by dynamic type: moov's encoders are
// pointers to zero-size structs, whose addresses may coincide.
func sameType(a, b any) bool { return reflect.TypeOf(a) == reflect.TypeOf(b) }
