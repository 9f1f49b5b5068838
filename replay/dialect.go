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

// checkWire refuses, before anything is sent, a template whose values the
// dialect's encoding cannot carry, naming its line and field.
func checkWire(codec *dialectio.Codec, tmpl []template) error {
	if codec.Same() {
		return nil
	}
	for i := range tmpl {
		if _, err := codec.ToWire(tmpl[i].frame); err != nil {
			me := &MessageError{Line: tmpl[i].line, Field: -1, Reason: err.Error()}
			var fe *dialectio.FieldError
			if errors.As(err, &fe) {
				me.Field, me.Reason = fe.Field, fe.Rule
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
	if !c.r.codec.Same() {
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
	if c.r.codec.Same() {
		return nil
	}
	wire, err := c.r.codec.ToWire(c.buf[start:])
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
