package replay

import (
	"github.com/cardswitch/cardswitch/iso"
)

// approvalCode is the 38 the approving echo puts in every answer.
var approvalCode = [6]byte{'0', '0', '0', '0', '0', '1'}

// approver turns a request into an approval (39=00, 38=000001) by editing
// a copy of the frame: the bitmap bits for 38 and 39 are set and their
// bytes inserted before the first later field. It never packs or unpacks a
// message, so it costs far less than the switch it answers (an issuer
// simulator built on moov's Message would be the bottleneck of a
// throughput benchmark). One per connection; not safe for concurrent use.
type approver struct {
	sc  *iso.Scanner
	v   iso.View
	out []byte
}

func newApprover() (*approver, error) {
	sc, err := iso.NewScanner(iso.Spec87())
	if err != nil {
		return nil, err
	}
	return &approver{sc: sc, out: make([]byte, 0, iso.MaxFrameLen)}, nil
}

// answer returns the approval of body, or body with only its MTI turned
// (a plain echo) when body does not scan. The result is valid until the
// next call.
func (a *approver) answer(body []byte) []byte {
	if len(body) >= 4 {
		resp := iso.ResponseMTI(body[:4])
		copy(body[:4], resp[:])
	}
	v := &a.v
	if a.sc.Scan(body, v) != nil || v.Has(38) || v.Has(39) {
		if v.Has(39) {
			_ = v.Set(39, []byte("00"))
		}
		return body
	}
	at := len(body)
	for id := 40; id <= 128; id++ {
		if v.Has(id) {
			at = v.Offset(id) - (len(v.Raw(id)) - len(v.Field(id))) // start of its length prefix
			break
		}
	}
	out := append(a.out[:0], body[:at]...)
	out = append(out, approvalCode[:]...)
	out = append(out, '0', '0')
	out = append(out, body[at:]...)
	setBit(out[4:4+len(v.Raw(1))], 38)
	setBit(out[4:4+len(v.Raw(1))], 39)
	a.out = out
	return out
}

// setBit sets field id's bit in a primary bitmap, binary (8 bytes) or
// ASCII hex (16 characters).
func setBit(bm []byte, id int) {
	i := id - 1
	if len(bm) == 8 || len(bm) == 16 && !isHex(bm) {
		bm[i/8] |= 0x80 >> (i % 8)
		return
	}
	c := bm[i/4]
	d := hexDigit(c) | 8>>(i%4)
	bm[i/4] = "0123456789ABCDEF"[d]
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hexDigit(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
