// Package dialectio lets the tools (send, replay, record, the issuer
// simulator) speak any built-in dialect without the switch's translation:
// both ends of a tool's link speak the same dialect, so a message only
// changes encoding, never layout.
//
// A dialect's messages are handled in their text form: the ASCII spec of
// the dialect's version (iso87ascii for 1987, iso93ascii for 1993), where
// every field value is readable text and the scanner finds offsets. A
// Codec re-packs a message between its text form and the dialect's wire
// encoding field by field, by value (moov unpack and pack: the tools are
// not the switch's hot path).
package dialectio

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/moov-io/iso8583"
	moovErrors "github.com/moov-io/iso8583/errors"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"

	"github.com/cardswitch/cardswitch/iso"
)

// Default is the dialect the tools speak when none is given: today's wire
// format.
const Default = "iso87ascii"

// text93File is the spec of the 1993 text form.
const text93File = "iso93ascii.json"

// Known lists the built-in dialect names, comma-separated, for errors and
// flag help.
func Known() string {
	ds := iso.BuiltinDialects()
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

// Lookup returns the built-in dialect called name ("" is Default). An
// unknown name's error lists the known ones.
func Lookup(name string) (iso.Dialect, error) {
	if name == "" {
		name = Default
	}
	d, err := iso.LookupDialect(name)
	if err != nil {
		return iso.Dialect{}, fmt.Errorf("unknown dialect %q (known: %s)", name, Known())
	}
	return d, nil
}

// TextSpec is the spec of d's text form: iso87ascii for a 1987 dialect,
// iso93ascii for a 1993 one.
func TextSpec(d iso.Dialect) (*iso8583.MessageSpec, error) {
	if d.Version == 1993 {
		return iso.Dialect{SpecFile: text93File}.Spec()
	}
	return iso.Spec87(), nil
}

// Codec converts one dialect's messages between text form and wire
// encoding. Immutable, safe for concurrent use.
type Codec struct {
	d          iso.Dialect
	text, wire *iso8583.MessageSpec
}

// New returns the codec of d.
func New(d iso.Dialect) (*Codec, error) {
	text, err := TextSpec(d)
	if err != nil {
		return nil, err
	}
	wire, err := d.Spec()
	if err != nil {
		return nil, err
	}
	return &Codec{d: d, text: text, wire: wire}, nil
}

// Dialect is the codec's dialect.
func (c *Codec) Dialect() iso.Dialect { return c.d }

// TextSpec is the spec of the codec's text form.
func (c *Codec) TextSpec() *iso8583.MessageSpec { return c.text }

// WireSpec is the dialect's own spec.
func (c *Codec) WireSpec() *iso8583.MessageSpec { return c.wire }

// Same reports whether the wire encoding is the text form itself: then
// only the framing differs and no re-packing is needed.
func (c *Codec) Same() bool { return c.text == c.wire }

// ToWire re-packs a text-form message in the dialect's encoding.
func (c *Codec) ToWire(text []byte) ([]byte, error) {
	if c.Same() {
		return text, nil
	}
	return Repack(c.wire, c.text, text, c.d.Name)
}

// ToText re-packs a message in the dialect's encoding into its text form.
func (c *Codec) ToText(wire []byte) ([]byte, error) {
	if c.Same() {
		return wire, nil
	}
	return Repack(c.text, c.wire, wire, "text form of "+c.d.Name)
}

// ToTextLenient is ToText for a reader that must match even a broken
// message: when msg does not unpack, it returns, with the error, the text
// form of the fields before the one that failed (nil when not even the
// MTI and bitmap could be read), so that the STAN can still be found.
func (c *Codec) ToTextLenient(wire []byte) ([]byte, error) {
	if c.Same() {
		return wire, nil
	}
	in := iso8583.NewMessage(c.wire)
	uerr := in.Unpack(wire)
	if uerr != nil {
		fe := unpackError(uerr).(*FieldError)
		if fe.Field < 2 {
			return nil, fe
		}
		in.UnsetField(fe.Field)
		uerr = fe
	}
	out, err := Convert(c.text, in, "text form of "+c.d.Name)
	if err != nil {
		return nil, err
	}
	b, err := out.Pack()
	if err != nil {
		return nil, &FieldError{Field: -1, Rule: "does not pack in the text form of " + c.d.Name}
	}
	return b, uerr
}

// FieldError names a field a message cannot be read or re-packed by. It
// never holds a value (moov's own errors may quote one).
type FieldError struct {
	Field int    // -1: the message as a whole
	Rule  string // e.g. "does not unpack", "does not fit dialect iso87binary"
}

func (e *FieldError) Error() string {
	if e.Field < 0 {
		return "message " + e.Rule
	}
	return fmt.Sprintf("field %d %s", e.Field, e.Rule)
}

// Repack unpacks msg with from and packs the same field values with to;
// target names to in errors.
func Repack(to, from *iso8583.MessageSpec, msg []byte, target string) ([]byte, error) {
	in := iso8583.NewMessage(from)
	if err := in.Unpack(msg); err != nil {
		return nil, unpackError(err)
	}
	out, err := Convert(to, in, target)
	if err != nil {
		return nil, err
	}
	b, err := out.Pack()
	if err != nil {
		return nil, &FieldError{Field: -1, Rule: "does not pack in " + target}
	}
	return b, nil
}

// Convert returns a message of spec to holding m's field values.
func Convert(to *iso8583.MessageSpec, m *iso8583.Message, target string) (*iso8583.Message, error) {
	out := iso8583.NewMessage(to)
	for id, f := range m.GetFields() {
		if id == 1 {
			continue // the bitmap: packing computes it
		}
		bad := &FieldError{Field: id, Rule: "does not fit " + target}
		v, err := Value(f)
		if err != nil {
			return nil, &FieldError{Field: id, Rule: "has no readable value"}
		}
		if _, ok := to.Fields[id]; !ok {
			bad.Rule = "is not defined in " + target
			return nil, bad
		}
		if err := out.BinaryField(id, v); err != nil {
			return nil, bad
		}
		if g := out.GetField(id); g != nil {
			if _, err := g.Pack(); err != nil {
				return nil, bad
			}
		}
	}
	return out, nil
}

// Value is a field's value independent of its encoding: the text of a
// string field, the bytes of a binary or hex field, the digits of a
// numeric field padded with zeros to a fixed field's length (moov keeps
// numeric fields as integers, which lose leading zeros).
func Value(f field.Field) ([]byte, error) {
	b, err := f.Bytes()
	if err != nil {
		return nil, err
	}
	if _, ok := f.(*field.Numeric); ok {
		sp := f.Spec()
		if isFixed(sp.Pref) && len(b) < sp.Length {
			b = append([]byte(strings.Repeat("0", sp.Length-len(b))), b...)
		}
	}
	return b, nil
}

func isFixed(p prefix.Prefixer) bool {
	return p != nil && strings.HasSuffix(p.Inspect(), ".Fixed")
}

// unpackError names the field moov could not unpack, never its value: a
// *FieldError.
func unpackError(err error) error {
	var ue *moovErrors.UnpackError
	if errors.As(err, &ue) {
		if id, convErr := strconv.Atoi(ue.FieldID); convErr == nil {
			return &FieldError{Field: id, Rule: "does not unpack"}
		}
	}
	return &FieldError{Field: -1, Rule: "does not unpack"}
}
