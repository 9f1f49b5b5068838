package record

import (
	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
)

// alwaysDropped never reach the trace: track 1 and 3, PIN block, ICC data.
var alwaysDropped = []int{36, 45, 52, 55}

// recordable unpacks a request frame into the message to record, with card
// data replaced or removed as the options say. The frame is not modified.
func (p *Proxy) recordable(frame []byte) (*iso8583.Message, error) {
	m := iso8583.NewMessage(p.codec.TextSpec())
	if err := m.Unpack(frame); err != nil {
		return nil, err
	}
	for _, id := range alwaysDropped {
		m.UnsetField(id)
	}
	if p.opts.KeepPAN {
		return m, nil
	}
	pan, _ := m.GetString(2)
	if pan == "" {
		// Track-only (card-present) requests: the stand-in card goes to
		// field 2 so the recorded request still routes without track 2.
		t2, _ := m.GetString(35)
		pan = string(iso.PANFromTrack2([]byte(t2)))
	}
	m.UnsetField(35)
	standIn := ""
	if pan != "" && isDigits(pan) {
		standIn = p.pans.replace(pan)
	}
	if standIn == "" {
		m.UnsetField(2) // no card number we can stand in for: never the real one
		return m, nil
	}
	if err := m.Field(2, standIn); err != nil {
		return nil, err
	}
	return m, nil
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
