package issuersim

import (
	"context"
	"errors"
	"log/slog"

	"github.com/cardswitch/cardswitch/iso"
	iso8583errors "github.com/moov-io/iso8583/errors"
)

// kind is how the simulator treats an MTI.
type kind int

const (
	kindUnsupported kind = iota
	kindAuth             // 0100, 0200: decided by rules
	kindReversal         // 0400, 0420, the advices 0120 and their repeats 0401, 0421, 0121: always 00
	kindNetMgmt          // 0800: always 00
)

func classify(mti string) kind {
	switch mti {
	case "0100", "0200":
		return kindAuth
	case "0400", "0401", "0420", "0421", "0120", "0121":
		return kindReversal
	case "0800":
		return kindNetMgmt
	}
	return kindUnsupported
}

// handle processes one frame on the connection's read goroutine. body is
// valid only during the call; everything sent is packed anew.
func (c *conn) handle(body []byte) {
	s := c.sim
	m := c.msg
	if err := m.Unpack(body); err != nil {
		s.stats.unparseable.Add(1)
		// moov-io's error text can quote field values, so log the field id only.
		var ue *iso8583errors.UnpackError
		fieldID := "?"
		if errors.As(err, &ue) {
			fieldID = ue.FieldID
		}
		c.log.Warn("unparseable frame", "bytes", len(body), "field", fieldID)
		return
	}
	s.stats.requests.Add(1)
	mti := fieldString(m, 0)
	pan := requestPAN(m)
	k := classifyIn(s.dialect.Version, mti)
	if k == kindReversal {
		s.revDrops.record(m, mti) // before OnRequest: an observer woken by it finds it in Reversals
	}
	if fn := s.onRequest.Load(); fn != nil {
		(*fn)(newRequest(m, mti, pan))
	}
	switch k {
	case kindAuth:
		if s.downAfter() {
			return // counted unanswered by downAfter
		}
		c.authorize(mti, pan)
	case kindReversal:
		c.reverse(mti)
	case kindNetMgmt:
		c.netMgmt(mti, body)
	default:
		s.stats.unsupported.Add(1)
		c.log.Warn("unsupported MTI, not answered", "mti", mti)
	}
}

func (c *conn) authorize(mti, pan string) {
	s := c.sim
	m := c.msg
	d := decide(&s.cfg, pan, parseAmount(fieldString(m, 4)))
	c.logRequest(mti, pan, d)
	if d.noAnswer {
		s.stats.noAnswer.Add(1)
		return
	}
	var approval string
	if d.code == codeApproved {
		approval = s.approvals.next()
	}
	frame, err := packResponse(m, iso.ResponseMTI([]byte(mti)), s.wireCode(d.code), approval)
	if err == nil && d.malformed {
		frame, err = truncateAfterSTAN(m, frame)
	}
	if err != nil {
		c.log.Error("cannot build response", "mti", mti, "err", err)
		return
	}
	switch {
	case d.malformed:
		s.stats.malformed.Add(1)
	case d.code == codeApproved:
		s.stats.approved.Add(1)
	default:
		s.stats.declined.Add(1)
	}
	c.send(frame, s.cfg.Latency+d.delay)
}

// reverse answers 0400/0420 (and their repeats) with 00, except for the first ReversalDrop
// attempts of each distinct reversal, which are deliberately ignored.
func (c *conn) reverse(mti string) {
	s := c.sim
	key := reversalKey(fieldString(c.msg, 90), fieldString(c.msg, 11), fieldString(c.msg, 37))
	answer, first := s.revDrops.answer(key, s.cfg.ReversalDrop)
	if !answer {
		c.logRequest(mti, "", decision{noAnswer: true})
		s.stats.reversalsDropped.Add(1)
		return
	}
	c.logRequest(mti, "", decision{code: codeApproved})
	// A repeat (0421) is answered as its first attempt is (0430), as
	// ISO 8583 and jPOS do.
	resp := iso.ResponseMTI([]byte(mti))
	resp[3] = '0'
	frame, err := packResponse(c.msg, resp, s.wireCode(codeApproved), "")
	if err != nil {
		c.log.Error("cannot build response", "mti", mti, "err", err)
		return
	}
	s.stats.reversals.Add(1)
	if first {
		s.stats.reversalsAcked.Add(1)
	}
	c.send(frame, s.cfg.Latency)
}

func (c *conn) netMgmt(mti string, body []byte) {
	c.logRequest(mti, "", decision{code: codeApproved})
	var frame []byte
	var err error
	if c.sim.dialect.Version == 1993 {
		// 1993 network management (1804) carries its function code in 24
		// and more: every field is echoed, as jPOS 1993 hosts do.
		frame, err = packResponse(c.msg, iso.ResponseMTI([]byte(mti)), c.sim.wireCode(codeApproved), "")
	} else {
		frame, err = iso.NetMgmtResponse(c.sim.spec, body, codeApproved)
	}
	if err != nil {
		c.log.Error("cannot build response", "mti", mti, "err", &FieldError{Field: -1, Op: "pack", Err: err})
		return
	}
	c.sim.stats.networkMgmt.Add(1)
	c.send(frame, c.sim.cfg.Latency)
}

// logRequest writes the per-request Debug line; it costs nothing when Debug
// is off.
func (c *conn) logRequest(mti, pan string, d decision) {
	ctx := context.Background()
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	action := "answer"
	switch {
	case d.noAnswer:
		action = "no_answer"
	case d.malformed:
		action = "malformed"
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "request",
		slog.String("mti", mti),
		slog.String("stan", fieldString(c.msg, 11)),
		slog.String("pan", maskPAN(pan)),
		slog.String("code", d.code),
		slog.String("action", action),
		slog.Duration("delay", c.sim.cfg.Latency+d.delay))
}
