package switchd

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/issuer"
)

// Response codes the switch generates itself (field 39).
const (
	CodeNoRoute     = "15" // no route for the card's BIN (no such issuer)
	CodeFormatError = "30" // message framed but not parseable, or a mandatory field missing
	CodeIssuerDown  = "91" // issuer has no live link, or did not answer in time
	CodeSystemError = "96" // internal error, or the issuer's answer was unreadable
	CodeApproved    = "00"
)

// handle routes one frame from the acquirer. It runs on the connection's
// read goroutine and must not block on the issuer.
func (c *acqConn) handle(frame []byte) {
	s := c.s
	v := &c.view
	scanErr := s.scanner.ScanLenient(frame, v)
	mti := v.MTI()
	if mti == nil {
		// Nothing to answer to: without an MTI there is no response MTI.
		s.stats.unreadable.Add(1)
		s.log.Warn("acquirer frame without a readable MTI ignored", "conn", c.id, "remote", c.remote,
			"len", len(frame), "err", scanErr)
		return
	}
	if !iso.IsRequestMTI(mti) {
		s.stats.notRequests.Add(1)
		s.log.Warn("acquirer sent a non-request message; ignored", "conn", c.id, "mti", string(mti))
		return
	}
	s.stats.requests.Add(1)
	if scanErr != nil {
		c.reject(v, CodeFormatError, scanErr.Error())
		return
	}
	switch {
	case s.draining.Load():
		c.reject(v, CodeIssuerDown, "switch shutting down")
	case mti[0] != '0':
		c.reject(v, CodeFormatError, "only ISO 8583:1987 (version 0) messages are accepted")
	case mti[1] == '8':
		c.netMgmt(frame, v)
	case mti[1] == '1' || mti[1] == '2' || mti[1] == '4':
		c.relay(frame, v)
	default:
		c.reject(v, CodeFormatError, "message class not supported")
	}
}

// mandatory lists the fields an authorization or financial request must
// carry besides a PAN (2, or 35 when 2 is absent).
var mandatory = [...]int{3, 4, 7, 11}

func (c *acqConn) relay(frame []byte, v *iso.View) {
	s := c.s
	pan, _ := iso.RoutingPAN(v)
	if pan == nil {
		c.reject(v, CodeFormatError, "no PAN: field 2 absent and no usable track 2 (35)")
		return
	}
	if !v.Has(11) {
		c.reject(v, CodeFormatError, "mandatory field 11 missing")
		return
	}
	if v.MTI()[1] != '4' { // reversals route like their originals but may omit the rest
		for _, id := range mandatory {
			if !v.Has(id) {
				c.reject(v, CodeFormatError, missingField(id))
				return
			}
		}
	}
	snap := s.routes.Load()
	m, ok := snap.table.Lookup(pan)
	if !ok {
		c.reject(v, CodeNoRoute, "no route for BIN")
		return
	}
	t := c.newTxn(frame, v, m.Issuer)
	s.txns.add()
	if err := snap.issuers[m.IssuerIndex].Send(t, v.Offset(11)); err != nil {
		c.done()
		c.reject(v, CodeIssuerDown, err.Error())
		return
	}
	s.stats.relayed.Add(1)
}

func (c *acqConn) newTxn(frame []byte, v *iso.View, issuerName string) *issuer.Txn {
	t := &issuer.Txn{Frame: append([]byte(nil), frame...), Owner: c, Issuer: issuerName, Started: time.Now()}
	copy(t.MTI[:], v.MTI())
	copy(t.STAN[:], v.Field(11))
	if f := v.Field(37); len(f) == len(t.RRN) {
		copy(t.RRN[:], f)
		t.HasRRN = true
	}
	if f := v.Field(41); len(f) == len(t.Terminal) {
		copy(t.Terminal[:], f)
		t.HasTID = true
	}
	return t
}

func (c *acqConn) done() { c.s.txns.done() }

// Answer relays the issuer's response (issuer.Owner).
func (c *acqConn) Answer(t *issuer.Txn, resp []byte) {
	c.s.stats.issuerAnswers.Add(1)
	c.queue(resp)
	if c.s.log.Enabled(context.Background(), slog.LevelDebug) {
		c.s.logTxn(t, resp)
	}
	c.done()
}

// Fail answers for the issuer (issuer.Owner): 91 when it is unreachable
// or late, 96 when its answer was unreadable.
func (c *acqConn) Fail(t *issuer.Txn, err error) {
	code := CodeIssuerDown
	if errors.Is(err, issuer.ErrBadResponse) {
		code = CodeSystemError
	}
	var v iso.View
	_ = c.s.scanner.Scan(t.Frame, &v) // it scanned cleanly when it arrived
	c.reject(&v, code, err.Error())
	c.done()
}

func missingField(id int) string {
	return "mandatory field " + strconv.Itoa(id) + " missing"
}
