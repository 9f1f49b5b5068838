package switchd

import (
	"log/slog"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/issuer"
)

// reject answers a request by the switch itself: MTI + 10, the request's
// echo fields, and 39 = code. reason is logged, never sent.
func (c *acqConn) reject(v *iso.View, code, reason string) {
	s := c.s
	s.stats.countOwn(code)
	resp, err := iso.BuildResponse(s.spec, v, code)
	if err != nil {
		// The request's own fields could not be re-packed: answer with as
		// little as possible rather than nothing.
		s.log.Error("cannot build switch response", "conn", c.id, "code", code, "err", err)
		return
	}
	c.queue(resp)
	pan, _ := iso.RoutingPAN(v)
	s.log.Info("switch declined request", "conn", c.id, "remote", c.remote, "mti", string(v.MTI()),
		"stan", string(v.Field(11)), "pan", iso.MaskPAN(pan), "code", code, "reason", reason)
}

// netMgmt answers an acquirer's 0800: sign-on (001), sign-off (002) and
// echo (301) get 00; any other network management code gets 30.
func (c *acqConn) netMgmt(frame []byte, v *iso.View) {
	code := CodeApproved
	switch string(v.Field(70)) {
	case iso.NetSignOn, iso.NetSignOff, iso.NetEcho:
	default:
		code = CodeFormatError
	}
	resp, err := iso.NetMgmtResponse(c.s.spec, frame, code)
	if err != nil {
		c.reject(v, CodeSystemError, err.Error())
		return
	}
	c.s.stats.netMgmt.Add(1)
	c.queue(resp)
	c.s.log.Debug("network management answered", "conn", c.id, "code70", string(v.Field(70)), "code", code)
}

// logTxn writes the per-transaction debug line (PAN masked).
func (s *Switch) logTxn(t *issuer.Txn, resp []byte) {
	var req, rv iso.View
	_ = s.scanner.Scan(t.Frame, &req)
	_ = s.scanner.Scan(resp, &rv)
	pan, _ := iso.RoutingPAN(&req)
	s.log.Debug("transaction", slog.String("issuer", t.Issuer), slog.String("mti", string(t.MTI[:])),
		slog.String("stan", string(t.STAN[:])), slog.String("pan", iso.MaskPAN(pan)),
		slog.String("code", string(rv.Field(39))), slog.Duration("latency", time.Since(t.Started)))
}
