package iso

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/moov-io/iso8583"
	moovspecs "github.com/moov-io/iso8583/specs"
)

// Canonical reports whether d's messages are canonical (spec =
// iso87ascii): no translation, framing only.
func (d Dialect) Canonical() bool { return d.user == nil && d.SpecFile == Spec87File }

// NewDialect makes a user dialect from a moov-io JSON spec
// (specs.ImportJSON), its version (1987 or 1993: how MTIs and response
// codes are read) and its framing.
func NewDialect(name string, specJSON []byte, version int, f Framing) (Dialect, error) {
	if version != 1987 && version != 1993 {
		return Dialect{}, fmt.Errorf("iso: dialect %q: version %d (want 1987 or 1993)", name, version)
	}
	s, err := moovspecs.ImportJSON(specJSON)
	if err != nil {
		return Dialect{}, fmt.Errorf("iso: dialect %q: spec: %w", name, err)
	}
	if err := s.Validate(); err != nil {
		return Dialect{}, fmt.Errorf("iso: dialect %q: spec: %w", name, err)
	}
	d := Dialect{Name: name, Version: version, Framing: f, user: s}
	if _, err := NewTranslator(d); err != nil {
		return Dialect{}, err
	}
	return d, nil
}

// TranslateError names the field that cannot be expressed (not defined
// in the target, too long, not convertible). Its Error() is log-safe:
// the field number and a fixed rule text, never the value.
type TranslateError struct {
	Field  int
	Reason string
}

func (e *TranslateError) Error() string {
	return "iso: translate: field " + strconv.Itoa(e.Field) + ": " + e.Reason
}

func xerr(id int, reason string) error { return &TranslateError{Field: id, Reason: reason} }

// errFastDecode makes the fast path hand a message to moov's unpacker: the
// fast decoder refuses anything it does not read exactly as moov would
// (a sign in a length prefix, say), and moov decides.
var errFastDecode = errors.New("iso: translate: fast decoder declined")

// Translator converts messages (no framing) between one dialect and the
// canonical form. Immutable after NewTranslator, safe for concurrent use.
type Translator struct {
	d     Dialect
	spec  *iso8583.MessageSpec
	codec *codecSet // t's dialect
	canon *codecSet // the canonical spec
	v93   bool
	// the fast path's field plans, nil when a spec has a field it does
	// not read
	toCanon, fromCanon *xplan
}

// NewTranslator prepares translation between d and the canonical form. It
// fails for a spec it cannot translate, naming the field.
func NewTranslator(d Dialect) (*Translator, error) {
	spec, err := d.Spec()
	if err != nil {
		return nil, err
	}
	cs, err := newCodecSet(spec)
	if err != nil {
		return nil, fmt.Errorf("iso: dialect %q: %w", d.Name, err)
	}
	canon, err := canonCodecs()
	if err != nil {
		return nil, err
	}
	t := &Translator{d: d, spec: spec, codec: cs, canon: canon, v93: d.Version == 1993}
	if cs.fast && canon.fast {
		t.toCanon, t.fromCanon = newPlan(cs, canon), newPlan(canon, cs)
	}
	return t, nil
}

var canonCodecs = sync.OnceValues(func() (*codecSet, error) { return newCodecSet(Spec87()) })

// Dialect is the dialect t translates.
func (t *Translator) Dialect() Dialect { return t.d }

// ToCanon appends to dst the canonical form of msg (in t's dialect) and
// returns it. c may be nil (nothing is remembered). dst must not overlap
// msg: values are read from msg while dst is written.
func (t *Translator) ToCanon(dst, msg []byte, c *Carry) ([]byte, error) {
	return t.run(dst, msg, c, true)
}

// FromCanon appends to dst the canonical message msg expressed in t's
// dialect. c may be nil; when it holds values from a peer of t's version
// it restores them (a 1993 acquirer and a 1993 issuer see each other's
// values exactly), and for an answer it restores the fields the acquirer
// sent (byte-exact echo). dst must not overlap msg.
func (t *Translator) FromCanon(dst, msg []byte, c *Carry) ([]byte, error) {
	return t.run(dst, msg, c, false)
}

// run is the fast path with moov's unpacker as the fallback for what the
// fast decoder declines.
func (t *Translator) run(dst, msg []byte, c *Carry, toCanon bool) ([]byte, error) {
	st := statePool.Get().(*xstate)
	defer statePool.Put(st)
	if out, ok := t.direct(st, dst, msg, c, toCanon); ok {
		return out, nil
	}
	out, err := t.fast(st, dst, msg, c, toCanon)
	if errors.Is(err, errFastDecode) {
		return t.moov(dst, msg, c, toCanon)
	}
	return out, err
}

func (t *Translator) sides(toCanon bool) (from, to *codecSet) {
	if toCanon {
		return t.codec, t.canon
	}
	return t.canon, t.codec
}

// fast translates from wire bytes to wire bytes without a moov Message.
func (t *Translator) fast(st *xstate, dst, msg []byte, c *Carry, toCanon bool) ([]byte, error) {
	from, to := t.sides(toCanon)
	if !from.fast || !to.fast {
		return nil, errFastDecode
	}
	st.reset()
	if err := from.decode(msg, &st.src, &st.buf); err != nil {
		return dst, err
	}
	if err := t.convert(st, c, toCanon); err != nil {
		return dst, err
	}
	return to.encode(dst, &st.dst)
}

// convert applies the version rules and the per-field value rules.
func (t *Translator) convert(st *xstate, c *Carry, toCanon bool) error {
	from, to := t.sides(toCanon)
	if !t.v93 {
		return copyFields(&st.dst, &st.src, from, to, &st.buf, nil)
	}
	var err error
	if toCanon {
		err = from93(st, c)
	} else {
		err = to93(st, c)
	}
	if err != nil {
		return err
	}
	return copyFields(&st.dst, &st.src, from, to, &st.buf, nil)
}
