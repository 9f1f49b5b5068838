package acqclient

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
)

// FieldError says which field of a Request cannot be built and by which
// rule of the spec. It never quotes card data (2, 14, 35, 36, 45, 52, 53,
// 55): only the length.
type FieldError struct {
	Field int
	Name  string // the spec's description, "" when the spec has no such field
	Value string // "" for card data
	Rule  string // e.g. "must be exactly 8 characters, got 2"
}

func (e *FieldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "field %d", e.Field)
	if e.Name != "" {
		fmt.Fprintf(&b, " (%s)", e.Name)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", e.Value)
	}
	return b.String() + ": " + e.Rule
}

// cardData are the fields whose value an error must not carry.
func cardData(id int) bool { return id == 2 || id == 14 || iso.IsSensitive(id) }

// setField sets field id of m to v (hex digits for a binary field) after
// checking v against the field's spec on its own, so that a bad value is
// reported against its field rather than as a failure of the message.
func setField(m *iso8583.Message, id int, v string) error {
	fe := &FieldError{Field: id}
	if !cardData(id) {
		fe.Value = v
	}
	proto, ok := m.GetSpec().Fields[id]
	if !ok || id < 2 {
		fe.Rule = "not a field of the " + m.GetSpec().Name + " spec that can be set (2..128)"
		return fe
	}
	spec := proto.Spec()
	fe.Name = spec.Description
	raw := []byte(v)
	if _, isHex := proto.(*field.Hex); isHex {
		var err error
		if raw, err = hex.DecodeString(v); err != nil {
			fe.Rule = "want hex digits"
			return fe
		}
	}
	f := field.NewInstanceOf(proto)
	err := f.SetBytes(raw)
	if err == nil {
		_, err = f.Pack()
	}
	if err != nil {
		fe.Rule = rule(spec, len(raw), f)
		return fe
	}
	return m.BinaryField(id, raw)
}

// rule states the spec's rule a value of n characters broke: its length,
// or for a numeric field of a good length, its characters.
func rule(spec *field.Spec, n int, f field.Field) string {
	fixed := spec.Pref != nil && strings.HasSuffix(spec.Pref.Inspect(), ".Fixed")
	_, numeric := f.(*field.Numeric)
	switch {
	case fixed && spec.Pad == nil && n != spec.Length:
		return fmt.Sprintf("must be exactly %d characters, got %d", spec.Length, n)
	case n > spec.Length:
		return fmt.Sprintf("at most %d characters, got %d", spec.Length, n)
	case numeric:
		return "digits only"
	}
	return "does not pack with the spec"
}
