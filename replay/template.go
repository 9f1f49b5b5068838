package replay

import (
	"errors"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/replay/trace"
)

// Field ids the engine rewrites and matches on.
const (
	fieldDateTime = 7
	fieldSTAN     = 11
	fieldRRN      = 37
	fieldCode     = 39
)

// Fixed wire lengths of the rewritten fields (1987 ASCII spec; the 1993
// text form has the same).
const (
	stanLen     = 6
	rrnLen      = 12
	dateTimeLen = 10
)

// template is one trace message prepared for sending many times: the
// offsets the send path patches are found once, here, with iso.Scanner.
type template struct {
	frame    []byte
	at       time.Duration
	line     int
	offSTAN  int // always present: responses are matched by it
	offRRN   int // -1 when absent
	offDT    int // -1 when absent
	stan     uint32
	rrn      [rrnLen]byte // as in the trace, for NoRewrite validation
	respMTI  [4]byte
	expect   []codeKey
	panMasks string // masked PAN (or ""), for failure reports only
}

func newTemplates(sc *iso.Scanner, msgs []trace.Message) ([]template, error) {
	out := make([]template, len(msgs))
	var v iso.View
	for i, m := range msgs {
		if err := newTemplate(sc, &v, m, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func newTemplate(sc *iso.Scanner, v *iso.View, m trace.Message, t *template) error {
	bad := func(field int, reason string) error { return &MessageError{Line: m.Line, Field: field, Reason: reason} }
	if len(m.Frame) > iso.MaxFrameLen {
		return bad(-1, "frame too large for a 2-byte length header")
	}
	if err := sc.Scan(m.Frame, v); err != nil {
		var fe *iso.FieldError
		if errors.As(err, &fe) {
			return bad(fe.Field, fe.Reason)
		}
		return bad(-1, err.Error())
	}
	if !iso.IsRequestMTI(v.MTI()) {
		return bad(0, "not a request MTI")
	}
	if len(v.Field(fieldSTAN)) != stanLen {
		return bad(fieldSTAN, "required (responses are matched by STAN)")
	}
	*t = template{
		frame: append([]byte(nil), m.Frame...), at: m.At, line: m.Line,
		offSTAN: v.Offset(fieldSTAN), offRRN: -1, offDT: -1,
		stan:    uint32(atoiDigits(v.Field(fieldSTAN))), // #nosec G115 -- 6 digits
		respMTI: iso.ResponseMTI(v.MTI()),
	}
	if f := v.Field(fieldRRN); len(f) == rrnLen {
		t.offRRN = v.Offset(fieldRRN)
		copy(t.rrn[:], f)
	}
	if len(v.Field(fieldDateTime)) == dateTimeLen {
		t.offDT = v.Offset(fieldDateTime)
	}
	if pan, _ := iso.RoutingPAN(v); pan != nil {
		t.panMasks = iso.MaskPAN(pan)
	}
	for _, c := range m.Expect {
		k, ok := toCodeKey([]byte(c))
		if !ok {
			return bad(fieldCode, "expected response code must be 2 characters (3 in 1993)")
		}
		t.expect = append(t.expect, k)
	}
	return nil
}

// expects reports whether code is acceptable for t (any code when t has
// no expectation).
func (t *template) expects(code []byte) bool {
	if len(t.expect) == 0 {
		return true
	}
	k, ok := toCodeKey(code)
	if !ok {
		return false
	}
	for _, e := range t.expect {
		if e == k {
			return true
		}
	}
	return false
}

// atoiDigits parses ASCII digits (the scanner checked them).
func atoiDigits(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n*10 + uint64(c-'0')
	}
	return n
}

// putDigits writes n as len(dst) zero-padded decimal digits.
func putDigits(dst []byte, n uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
}
