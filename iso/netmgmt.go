package iso

import (
	"fmt"
	"time"

	"github.com/moov-io/iso8583"
)

// Network management codes carried in field 70.
const (
	NetSignOn  = "001"
	NetSignOff = "002"
	NetEcho    = "301"
)

// NetMgmtRequest packs an 0800 with transmission date-time (7), STAN (11)
// and network management code (70). stan is 1..999999.
func NetMgmtRequest(spec *iso8583.MessageSpec, stan uint32, code string, now time.Time) ([]byte, error) {
	m := iso8583.NewMessage(spec)
	m.MTI("0800")
	if err := m.Field(7, now.UTC().Format("0102150405")); err != nil {
		return nil, err
	}
	if err := m.Field(11, fmt.Sprintf("%06d", stan)); err != nil {
		return nil, err
	}
	if err := m.Field(70, code); err != nil {
		return nil, err
	}
	return m.Pack()
}

// NetMgmtResponse answers an 0800 (already known to unpack) with an 0810
// carrying 39 = code and the request's 7, 11, 12, 13, 32, 33, 37, 70 echoed.
// Network management is rare, so a full unpack/pack is fine here.
func NetMgmtResponse(spec *iso8583.MessageSpec, req []byte, code string) ([]byte, error) {
	in := iso8583.NewMessage(spec)
	if err := in.Unpack(req); err != nil {
		return nil, err
	}
	mti, err := in.GetMTI()
	if err != nil {
		return nil, err
	}
	rm := ResponseMTI([]byte(mti))
	out := iso8583.NewMessage(spec)
	out.MTI(string(rm[:]))
	for _, id := range []int{7, 11, 12, 13, 32, 33, 37, 70} {
		if b, err := in.GetBytes(id); err == nil && b != nil {
			if err := out.BinaryField(id, b); err != nil {
				return nil, err
			}
		}
	}
	if err := out.Field(39, code); err != nil {
		return nil, err
	}
	return out.Pack()
}
