package replay

import (
	"errors"

	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
)

// Send-path failures in a dialect other than the text form's encoding.
var errRepack = errors.New("request cannot be re-packed in the dialect")

// sendHeader is the header written after each request's length.
func sendHeader(opt Options) []byte {
	switch opt.Dialect.Framing.Header {
	case iso.HeaderTPDU:
		return opt.TPDU
	case iso.HeaderFixed:
		return opt.Dialect.Framing.Fixed
	}
	return nil
}

// newConverter returns the dialect's codec and, with Options.Translate
// and a dialect that is not canonical, its translator.
func newConverter(opt Options) (*dialectio.Codec, *iso.Translator, error) {
	codec, err := dialectio.New(opt.Dialect)
	if err != nil || !opt.Translate || opt.Dialect.Canonical() {
		return codec, nil, err
	}
	xl, err := iso.NewTranslator(opt.Dialect)
	return codec, xl, err
}

// textOnWire reports whether requests go on the wire in their text form
// (only the framing added).
func (r *runner) textOnWire() bool {
	if r.opt.Translate {
		return r.xl == nil
	}
	return r.codec.Same()
}

// checkWire refuses, before anything is sent, a template whose values the
// dialect's encoding cannot carry, naming its line and field.
func checkWire(codec *dialectio.Codec, xl *iso.Translator, tmpl []template) error {
	if xl == nil && codec.Same() {
		return nil
	}
	for i := range tmpl {
		var err error
		if xl != nil {
			_, err = xl.FromCanon(nil, tmpl[i].frame, nil)
		} else {
			_, err = codec.ToWire(tmpl[i].frame)
		}
		if err != nil {
			me := &MessageError{Line: tmpl[i].line, Field: -1, Reason: err.Error()}
			var fe *dialectio.FieldError
			var te *iso.TranslateError
			if errors.As(err, &fe) {
				me.Field, me.Reason = fe.Field, fe.Rule
			} else if errors.As(err, &te) {
				me.Field, me.Reason = te.Field, te.Reason
			}
			return me
		}
	}
	return nil
}

// beginRequest appends template t to c.buf and returns where its frame
// and its text-form body start, for the caller to patch the body. When
// the dialect's encoding is the text form the frame is final (length,
// header, body: as cheap as iso87ascii); otherwise finishRequest re-packs
// the patched body.
func (c *conn) beginRequest(t *template) (start, body int, err error) {
	start = len(c.buf)
	if !c.r.textOnWire() {
		c.buf = append(c.buf, t.frame...)
		return start, start, nil
	}
	if c.buf, err = c.r.opt.Dialect.Framing.Length.AppendLength(c.buf, len(c.r.hdr)+len(t.frame)); err != nil {
		c.buf = c.buf[:start]
		return 0, 0, err
	}
	c.buf = append(c.buf, c.r.hdr...)
	body = len(c.buf)
	c.buf = append(c.buf, t.frame...)
	return start, body, nil
}

// finishRequest replaces the patched text body at c.buf[start:] with its
// frame in the dialect, when the dialect's encoding is not the text form.
func (c *conn) finishRequest(start int) error {
	if c.r.textOnWire() {
		return nil
	}
	var wire []byte
	var err error
	if c.r.xl != nil {
		// Appended to a scratch buffer of the connection's: the translator
		// must not write where it reads.
		wire, err = c.r.xl.FromCanon(c.xbuf[:0], c.buf[start:], nil)
		c.xbuf = wire
	} else {
		wire, err = c.r.codec.ToWire(c.buf[start:])
	}
	c.buf = c.buf[:start]
	if err != nil {
		return errRepack
	}
	if c.buf, err = c.r.opt.Dialect.Framing.AppendFrame(c.buf, c.r.hdr, wire); err != nil {
		c.buf = c.buf[:start]
		return errRepack
	}
	return nil
}
