package iso

// STUB for the h4wire branch only: the translation helper's iso/translate.go
// replaces this file at merge (the lead deletes it). It has exactly the API
// of translate_api.md and a slow, simple body: moov unpack, copy each field
// by value, pack. Nothing outside this file may call anything here but that
// API.

import (
	"fmt"
	"sort"
	"sync"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
	moovspecs "github.com/moov-io/iso8583/specs"
)

// Canonical reports whether d's messages are canonical (spec = iso87ascii):
// no translation, framing only.
func (d Dialect) Canonical() bool { return d.SpecFile == Spec87File }

// Carry holds, for one transaction, what the canonical form cannot hold.
// A zero Carry is valid.
type Carry struct{}

// Translator converts messages (no framing) between one dialect and the
// canonical form.
type Translator struct {
	d    Dialect
	spec *iso8583.MessageSpec
}

// NewTranslator returns d's translator.
func NewTranslator(d Dialect) (*Translator, error) {
	s, err := d.Spec()
	if err != nil {
		return nil, err
	}
	return &Translator{d: d, spec: s}, nil
}

// Dialect is the translator's dialect.
func (t *Translator) Dialect() Dialect { return t.d }

// TranslateError names the field that cannot be expressed.
type TranslateError struct {
	Field  int
	Reason string
}

func (e *TranslateError) Error() string {
	return fmt.Sprintf("iso: translate: field %d: %s", e.Field, e.Reason)
}

// ToCanon appends to dst the canonical form of msg (in t's dialect).
func (t *Translator) ToCanon(dst, msg []byte, _ *Carry) ([]byte, error) {
	return stubConvert(dst, msg, t.spec, Spec87(), t.d.Version == 1993, '0')
}

// FromCanon appends to dst the canonical message msg expressed in t's dialect.
func (t *Translator) FromCanon(dst, msg []byte, _ *Carry) ([]byte, error) {
	return stubConvert(dst, msg, Spec87(), t.spec, t.d.Version == 1993, '1')
}

func stubConvert(dst, msg []byte, from, to *iso8583.MessageSpec, v93 bool, first byte) ([]byte, error) {
	src := iso8583.NewMessage(from)
	if err := src.Unpack(msg); err != nil {
		return dst, &TranslateError{Field: 0, Reason: "source does not unpack"}
	}
	out := iso8583.NewMessage(to)
	mti, _ := src.GetMTI()
	if v93 && len(mti) == 4 {
		mti = string(first) + mti[1:]
	}
	out.MTI(mti)
	fields := src.GetFields()
	ids := make([]int, 0, len(fields))
	for id := range fields {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		if id < 2 || id == 64 || id == 128 {
			continue
		}
		if _, ok := to.Fields[id]; !ok {
			return dst, &TranslateError{Field: id, Reason: "not defined in the target"}
		}
		b, err := stubBytes(fields[id])
		if err == nil {
			err = out.BinaryField(id, b)
		}
		if err != nil {
			return dst, &TranslateError{Field: id, Reason: "not convertible"}
		}
	}
	packed, err := out.Pack()
	if err != nil {
		for _, id := range ids {
			if f, ok := out.GetFields()[id]; ok {
				if _, ferr := f.Pack(); ferr != nil {
					return dst, &TranslateError{Field: id, Reason: "too long or not convertible"}
				}
			}
		}
		return dst, &TranslateError{Field: 0, Reason: "target does not pack"}
	}
	return append(dst, packed...), nil
}

// stubBytes is a field's value: a fixed numeric's with its padding (all
// the canonical spec's numerics are ASCII fixed, so its Pack is the value).
func stubBytes(f field.Field) ([]byte, error) {
	if _, ok := f.(*field.Numeric); ok {
		return f.Pack()
	}
	return f.Bytes()
}

var userSpecs sync.Map // "user:" + name -> *iso8583.MessageSpec

// NewDialect makes a dialect from a moov JSON spec.
func NewDialect(name string, specJSON []byte, version int, f Framing) (Dialect, error) {
	s, err := moovspecs.ImportJSON(specJSON)
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		return Dialect{}, err
	}
	key := "user:" + name
	userSpecs.Store(key, s)
	sharedSpecs.Store(key, func() (*iso8583.MessageSpec, error) {
		v, _ := userSpecs.Load(key)
		return v.(*iso8583.MessageSpec), nil
	})
	return Dialect{Name: name, SpecFile: key, Version: version, Framing: f}, nil
}
