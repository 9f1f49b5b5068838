package replay

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cardswitch/cardswitch/iso"
)

// readLoop matches responses to pending requests until the connection
// closes. It allocates nothing per response unless validation fails.
func (c *conn) readLoop() {
	fr := iso.NewFramedReader(c.nc, c.r.opt.Dialect.Framing, iso.MaxFrameLen)
	var v iso.View
	var canon []byte // an answer translated to canonical (Options.Translate)
	for {
		_, body, err := fr.Next()
		if err != nil {
			c.fail()
			return
		}
		var decodeErr error
		if c.r.xl != nil {
			if canon, decodeErr = c.r.xl.ToCanon(canon[:0], body, nil); decodeErr != nil {
				c.rec.count(&c.rec.errors, 1) // a translation error names no STAN
				c.r.noteError()
				continue
			}
			body = canon
		} else if !c.r.codec.Same() {
			// Answers are validated in the text form, where the scanner
			// reads the STAN, RRN and code as in iso87ascii; a broken
			// answer still yields the fields before the break.
			if body, decodeErr = c.r.codec.ToTextLenient(body); body == nil {
				c.rec.count(&c.rec.errors, 1) // nothing to match it to
				c.r.noteError()
				continue
			}
		}
		c.handle(body, &v, decodeErr)
	}
}

// handle matches and validates one answer in text form; decodeErr is why
// the answer did not decode in the dialect (its text form then holds the
// fields before the break), nil when it did.
func (c *conn) handle(body []byte, v *iso.View, decodeErr error) {
	sc := c.r.scanner
	scanErr := sc.Scan(body, v)
	if scanErr != nil {
		_ = sc.ScanLenient(body, v) // the STAN may still be readable
	} else if decodeErr != nil {
		scanErr = decodeErr
	}
	stanField := v.Field(fieldSTAN)
	if len(stanField) != stanLen {
		c.rec.count(&c.rec.errors, 1) // nothing to match it to
		c.r.noteError()
		return
	}
	stan := uint32(atoiDigits(stanField)) // #nosec G115 -- 6 digits
	now := c.r.now()
	c.mu.Lock()
	p, ok := c.pend[stan]
	if ok {
		delete(c.pend, stan)
	}
	c.mu.Unlock()
	if !ok {
		c.rec.count(&c.rec.late, 1)
		return
	}
	if !p.warm {
		t := &c.r.tmpl[p.tmpl]
		var f *Failure
		if reason := c.r.check(t, p, v, scanErr); reason != "" {
			f = newFailure(t, stan, reason, v.Field(fieldCode))
		}
		c.rec.answer(now-p.intended, v.Field(fieldCode), f)
	}
	c.r.complete(c)
}

// check validates a response against its request; "" means valid. Reasons
// never quote field values other than the MTI and response code.
func (r *runner) check(t *template, p pending, v *iso.View, scanErr error) string {
	if scanErr != nil {
		var fe *iso.FieldError
		if errors.As(scanErr, &fe) {
			return fmt.Sprintf("unparseable response: field %d: %s", fe.Field, fe.Reason)
		}
		return "unparseable response: " + scanErr.Error()
	}
	if mti := v.MTI(); !bytes.Equal(mti, t.respMTI[:]) {
		return fmt.Sprintf("response MTI %s, want %s", mti, t.respMTI[:])
	}
	if t.offRRN >= 0 {
		want := t.rrn
		if !r.opt.NoRewrite {
			putDigits(want[:], p.rrn)
		}
		if !bytes.Equal(v.Field(fieldRRN), want[:]) {
			return "RRN (37) missing or different from the request's"
		}
	}
	if !t.expects(v.Field(fieldCode)) {
		got := "none"
		if k, ok := toCodeKey(v.Field(fieldCode)); ok {
			got = codeString(k)
		}
		return fmt.Sprintf("response code %s, want %s", got, expectList(t))
	}
	return ""
}

func expectList(t *template) string {
	s := make([]string, len(t.expect))
	for i, e := range t.expect {
		s[i] = codeString(e)
	}
	return strings.Join(s, " or ")
}

// sweepLoop expires requests whose timeout passed. The deadline queue is
// in send order, so each tick looks at the head only.
func (c *conn) sweepLoop() {
	tick := time.NewTicker(min(max(c.r.opt.Timeout/20, time.Millisecond), 50*time.Millisecond))
	defer tick.Stop()
	var expired []pending
	for {
		select {
		case <-tick.C:
		case <-c.r.closing:
			return
		}
		expired = c.expire(c.r.now(), expired[:0])
		for _, p := range expired {
			if !p.warm {
				c.rec.count(&c.rec.timeouts, 1)
				c.r.noteError()
			}
			c.r.complete(c)
		}
	}
}

func (c *conn) expire(now int64, out []pending) []pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		d, ok := c.deadl.peek()
		if !ok {
			return out
		}
		p, live := c.pend[d.stan]
		if live && p.seq == d.seq {
			if d.at > now {
				return out
			}
			delete(c.pend, d.stan)
			out = append(out, p)
		}
		c.deadl.pop()
	}
}
