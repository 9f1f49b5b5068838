package issuersim

import (
	"sync/atomic"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
)

// approvalCodes hands out field 38 values: the configured prefix followed by
// a wrapping decimal counter, always approvalCodeLen characters.
type approvalCodes struct {
	prefix string
	n      atomic.Uint64
}

func (a *approvalCodes) next() string {
	var buf [approvalCodeLen]byte
	copy(buf[:], a.prefix)
	v := a.n.Add(1)
	for i := approvalCodeLen - 1; i >= len(a.prefix); i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return string(buf[:])
}

// packResponse turns the unpacked request m into its response in place and
// packs it: MTI, 39, 38 when approval is set (38 is dropped from declines),
// and the sensitive fields removed. Every other request field is echoed.
func packResponse(m *iso8583.Message, mti [4]byte, code, approval string) ([]byte, error) {
	m.MTI(string(mti[:]))
	for _, id := range iso.SensitiveFields {
		m.UnsetField(id)
	}
	switch {
	case approval != "":
		if err := m.Field(38, approval); err != nil {
			return nil, &FieldError{Field: 38, Op: "set", Err: err}
		}
	case code != codeApproved && code != iso.CodeTo1993(codeApproved):
		m.UnsetField(38)
	}
	if err := m.Field(39, code); err != nil {
		return nil, &FieldError{Field: 39, Op: "set", Err: err}
	}
	b, err := m.Pack()
	if err != nil {
		return nil, &FieldError{Field: -1, Op: "pack", Err: err}
	}
	return b, nil
}

// truncateAfterSTAN cuts up to malformedCut bytes off the packed response of
// m, taking them only from the fields after 11, so the frame still parses up
// to the STAN but no further. m must be the message packed into packed.
func truncateAfterSTAN(m *iso8583.Message, packed []byte) ([]byte, error) {
	tail := 0
	for id, f := range m.GetFields() {
		// Fields 1, 65 and 129 are bitmaps, packed at the front or not at all.
		if id <= 11 || id%64 == 1 {
			continue
		}
		b, err := f.Pack()
		if err != nil {
			return nil, &FieldError{Field: id, Op: "pack", Err: err}
		}
		tail += len(b)
	}
	return packed[:len(packed)-min(malformedCut, tail)], nil
}
