package issuersim

import (
	"strings"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
)

// Request describes one received request to an OnRequest observer. It holds
// no sensitive data: the PAN is masked and track, PIN and ICC data are left
// out. Fixed-length numeric fields keep their leading zeros.
type Request struct {
	MTI            string
	STAN           string // field 11
	RRN            string // field 37
	MaskedPAN      string // field 2, or the PAN from track 2 (35), masked
	Amount         string // field 4
	ProcessingCode string // field 3
	NetworkCode    string // field 70 (08xx)
	Original       string // field 90, original data elements (0400/0420)
	Code           string // field 39 (a switch's timeout 0420 carries 68)
}

func newRequest(m *iso8583.Message, mti, pan string) Request {
	return Request{
		MTI:            mti,
		STAN:           fieldString(m, 11),
		RRN:            fieldString(m, 37),
		MaskedPAN:      maskPAN(pan),
		Amount:         fieldString(m, 4),
		ProcessingCode: fieldString(m, 3),
		NetworkCode:    fieldString(m, 70),
		Original:       fieldString(m, 90),
		Code:           fieldString(m, 39),
	}
}

// fieldString returns field id of m as it appears on the wire, or "" when
// it is absent. moov-io's Numeric fields drop leading zeros (STAN "000123"
// reads as "123"), so padded numeric fields get them back.
func fieldString(m *iso8583.Message, id int) string {
	f := m.GetField(id)
	if f == nil {
		return ""
	}
	s, err := f.String()
	if err != nil {
		return ""
	}
	if _, ok := f.(*field.Numeric); ok && f.Spec().Pad != nil {
		if n := f.Spec().Length - len(s); n > 0 {
			s = strings.Repeat("0", n) + s
		}
	}
	return s
}

// requestPAN returns field 2, or the PAN part of track 2 when 2 is absent.
func requestPAN(m *iso8583.Message) string {
	if pan := fieldString(m, 2); pan != "" {
		return pan
	}
	return string(iso.PANFromTrack2([]byte(fieldString(m, 35))))
}

func maskPAN(pan string) string {
	if pan == "" {
		return ""
	}
	return iso.MaskPAN([]byte(pan))
}
