package trace

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
)

// sensitive fields never have their value (or moov's error about it,
// which may quote it) in an error: PAN, expiry, tracks, PIN block, ICC data.
var sensitive = map[int]bool{2: true, 14: true, 35: true, 36: true, 45: true, 52: true, 55: true}

// maxFieldID is the last field of the 1987 spec (tertiary bitmaps are not used).
const maxFieldID = 128

// builder collects the fields of one request and packs it with spec
// (iso.Spec87() unless a trace is read for a 1993 dialect).
type builder struct {
	spec *iso8583.MessageSpec
	msg  *iso8583.Message
}

func newBuilder(spec *iso8583.MessageSpec) *builder {
	return &builder{spec: spec, msg: iso8583.NewMessage(spec)}
}

// specField returns a fresh field for id, or an error when the spec has none.
func (b *builder) specField(id int) (field.Field, error) {
	if id < 0 || id > maxFieldID {
		return nil, fieldErr(id, "field number out of range 0..%d", maxFieldID)
	}
	proto, ok := b.spec.Fields[id]
	if !ok {
		return nil, fieldErr(id, "not in the %s spec", b.spec.Name)
	}
	return field.NewInstanceOf(proto), nil
}

// setText sets id from its text form (digits for numeric fields, hex for
// hex fields, the characters themselves otherwise).
func (b *builder) setText(id int, v string) error {
	f, err := b.specField(id)
	if err != nil {
		return err
	}
	if _, isHex := f.(*field.Hex); isHex {
		err = json.Unmarshal(quote(v), f)
	} else {
		err = f.SetBytes([]byte(v))
	}
	if err != nil {
		return b.fieldCause(id, len(v), "bad value", err)
	}
	return b.set(id, f, len(v))
}

// setBytes sets id from raw bytes (jPOS type="binary").
func (b *builder) setBytes(id int, v []byte) error {
	f, err := b.specField(id)
	if err != nil {
		return err
	}
	if err := f.SetBytes(v); err != nil {
		return b.fieldCause(id, len(v), "bad value", err)
	}
	return b.set(id, f, len(v))
}

// setJSON sets id from a JSON value: a string (text form), a number
// (numeric fields as moov-io marshals them) or, for composite fields,
// moov-io's JSON object of subfields.
func (b *builder) setJSON(id int, raw json.RawMessage) error {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return b.setText(id, s)
	}
	f, err := b.specField(id)
	if err != nil {
		return err
	}
	switch f.(type) {
	case *field.Numeric, *field.Composite:
		if err := json.Unmarshal(raw, f); err != nil {
			return b.fieldCause(id, len(raw), "bad JSON value", err)
		}
		return b.set(id, f, len(raw))
	case *field.String:
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return b.setText(id, n.String())
		}
	}
	return fieldErr(id, "want a JSON string or number")
}

// set installs f after checking that it packs on its own, so that a bad
// value is reported against its field rather than the whole message.
func (b *builder) set(id int, f field.Field, n int) error {
	if _, err := f.Pack(); err != nil {
		return b.fieldCause(id, n, "does not pack", err)
	}
	if id == 0 {
		mti, _ := f.String()
		if !iso.IsRequestMTI([]byte(mti)) {
			return fieldErr(0, "MTI %q is not a request", mti)
		}
	}
	// moov-io has no setter for a ready field: hand it over through its
	// own JSON form, which every field type round-trips.
	v, err := json.Marshal(f)
	if err != nil {
		return b.fieldCause(id, n, "bad value", err)
	}
	obj, _ := json.Marshal(map[string]json.RawMessage{strconv.Itoa(id): v})
	if err := b.msg.UnmarshalJSON(obj); err != nil {
		return b.fieldCause(id, n, "bad value", err)
	}
	return nil
}

// pack returns the wire frame (no length header).
func (b *builder) pack() ([]byte, error) {
	if b.msg.GetField(0) == nil {
		return nil, fieldErr(0, "missing MTI")
	}
	frame, err := b.msg.Pack()
	if err != nil {
		// Every field packed on its own, so this is a message-level problem.
		return nil, fmt.Errorf("packing message: %w", err)
	}
	return frame, nil
}

// fieldCause describes why a field failed. For sensitive fields moov's
// error text is withheld (it may quote the value): only the length and the
// spec's limit are given.
func (b *builder) fieldCause(id, n int, what string, err error) error {
	if sensitive[id] {
		max := 0
		if f, ok := b.spec.Fields[id]; ok {
			max = f.Spec().Length
		}
		return fieldErr(id, "%s (length %d, spec length %d; details withheld for card data)", what, n, max)
	}
	return fieldErr(id, "%s: %v", what, err)
}

func quote(s string) []byte {
	q, _ := json.Marshal(s)
	return q
}
