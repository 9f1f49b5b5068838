package iso

import (
	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
)

// EchoFields are copied from a request into a response the switch
// generates itself (declines 15/30/91/96, 0810 echoes), when present and
// scanned. They identify the transaction to the acquirer: PAN, processing
// code, amounts, dates/times, STAN, merchant type, POS entry and condition
// codes, institution ids, RRN, terminal and merchant ids, currency,
// network management code (70) and reversal data (90, 95).
//
// Deliberately not echoed: 14 (expiry) and 35/45 (track data) and 52
// (PIN block) and 53 (security control) are sensitive or meaningless in a
// response; 55 (ICC data) would need issuer-generated cryptograms; 64/128
// (MACs) cover the original message and would be wrong in a new one.
//
// In ascending order: AppendResponse writes them in this order.
var EchoFields = []int{2, 3, 4, 7, 11, 12, 13, 18, 22, 25, 32, 33, 37, 41, 42, 49, 70, 90, 95}

// Response-building failure reasons (fixed texts, never field data).
const (
	reasonEchoUnpack = "cannot copy field from request"
	reasonCode       = "response code must be 2 ASCII characters"
	reasonPack       = "cannot pack response"
	reasonNoMTI      = "request has no request MTI"
)

// BuildResponse builds the switch's own response to req: MTI =
// ResponseMTI(req's MTI), EchoFields copied from req (each unpacked from
// its Raw bytes with spec's field, so values round-trip exactly), field
// 39 = code. It returns the packed message without length header.
func BuildResponse(spec *iso8583.MessageSpec, req *View, code string) ([]byte, error) {
	if !IsRequestMTI(req.MTI()) {
		return nil, &FieldError{Field: 0, Reason: reasonNoMTI}
	}
	if len(code) != 2 || code[0] > 127 || code[1] > 127 {
		return nil, &FieldError{Field: 39, Reason: reasonCode}
	}
	mti := ResponseMTI(req.MTI())
	msg := iso8583.NewMessage(spec)
	msg.MTI(string(mti[:]))
	for _, id := range EchoFields {
		if !req.Has(id) {
			continue
		}
		if err := echoField(spec, msg, id, req.Raw(id)); err != nil {
			return nil, err
		}
	}
	if err := msg.Field(39, code); err != nil {
		return nil, &FieldError{Field: 39, Reason: reasonCode}
	}
	packed, err := msg.Pack()
	if err != nil {
		// moov's pack errors may quote values: report only that it failed.
		return nil, &FieldError{Field: 0, Reason: reasonPack}
	}
	return packed, nil
}

// echoField copies one field via a fresh instance of spec's field, so the
// value goes through moov's own unpack/pack and stays byte-identical.
func echoField(spec *iso8583.MessageSpec, msg *iso8583.Message, id int, raw []byte) error {
	specField, ok := spec.Fields[id]
	if !ok {
		return &FieldError{Field: id, Reason: reasonEchoUnpack}
	}
	f := field.NewInstanceOf(specField)
	if _, err := f.Unpack(raw); err != nil {
		return &FieldError{Field: id, Reason: reasonEchoUnpack}
	}
	val, err := f.Bytes()
	if err != nil {
		return &FieldError{Field: id, Reason: reasonEchoUnpack}
	}
	if err := msg.BinaryField(id, val); err != nil {
		return &FieldError{Field: id, Reason: reasonEchoUnpack}
	}
	return nil
}
