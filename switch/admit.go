package switchd

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/switch/acquirers"
	"github.com/cardswitch/cardswitch/switch/metrics"
	"github.com/cardswitch/cardswitch/switch/tlsconf"
)

// Codes for requests refused by the acquirer's own limits or identity.
const (
	CodeNotPermitted = "58"                           // field 32 is not this connection's acquirer (impersonation)
	CodeRateExceeded = acquirers.CodeRateExceeded     // "65": over the acquirer's rate
	CodeOverloaded   = acquirers.CodeInFlightExceeded // "91": over the acquirer's or connection's in-flight cap
)

// handshakeTimeout bounds a TLS handshake when no frame timeout is set.
const handshakeTimeout = 10 * time.Second

// admit decides whether a new connection may stay: the per-source caps,
// the total cap, the TLS handshake, and, when acquirers are configured,
// who it is and that acquirer's connection cap. On refusal the connection
// is closed with a log line and a counted reason. The per-source caps come
// first, before anything else is spent on the connection: a source over
// them takes no slot of listen.max_connections.
func (s *Switch) admit(c *acqConn) (release func(), ok bool) {
	release, ok = s.admitSource(c)
	if !ok {
		return nil, false
	}
	if max := s.live().Listen.MaxConnections; int(s.open.Add(1)) > max {
		s.open.Add(-1)
		release()
		return nil, s.refuse(c, metrics.ReasonMaxConnections, "connection cap reached", "max", max)
	}
	source := release
	release = func() { s.open.Add(-1); source() }
	subject, err := s.handshake(c.conn)
	if err != nil {
		release()
		return nil, s.refuse(c, metrics.ReasonTLS, "TLS handshake failed", "err", err)
	}
	reg := s.routes.Load().acqs
	c.reg, c.subject = reg, subject
	if !reg.Enabled() {
		return release, true
	}
	remote, _ := netip.ParseAddrPort(c.remote)
	a, found := reg.Identify(remote.Addr(), subject)
	if !found {
		release()
		return nil, s.refuse(c, metrics.ReasonUnknownAcquirer, "unknown acquirer: source address or certificate not configured",
			"subject", subject)
	}
	relAcq, ok := s.limiter.Connect(a)
	if !ok {
		release()
		return nil, s.refuse(c, metrics.ReasonMaxConnections, "acquirer connection cap reached", "acquirer", a.Name)
	}
	c.acq, c.acquirer = a, a.Name
	total := release
	return func() { relAcq(); total() }, true
}

// admitSource applies listen.max_connections_per_ip and
// listen.max_pending_per_ip to the connection's source address. The
// connection is pending until its first complete frame (firstFrame).
func (s *Switch) admitSource(c *acqConn) (release func(), ok bool) {
	lc := &s.live().Listen
	c.src = ipSource(c.conn.RemoteAddr())
	switch s.perIP.take(c.src, lc.MaxConnectionsPerIP, lc.MaxPendingPerIP) {
	case metrics.ReasonMaxConnectionsPerIP:
		return nil, s.refuse(c, metrics.ReasonMaxConnectionsPerIP, "too many connections from this address",
			"max", lc.MaxConnectionsPerIP)
	case metrics.ReasonMaxPendingPerIP:
		return nil, s.refuse(c, metrics.ReasonMaxPendingPerIP,
			"too many connections from this address that have not sent a frame", "max", lc.MaxPendingPerIP)
	}
	c.pending = true
	return func() { s.perIP.release(c.src, c.pending) }, true
}

// firstFrame: the connection completed a frame and no longer counts as
// pending against its source (read loop only).
func (c *acqConn) firstFrame() {
	c.pending = false
	c.s.perIP.sent(c.src)
}

func (s *Switch) refuse(c *acqConn, reason, msg string, args ...any) bool {
	s.metrics.Rejected(reason)
	s.log.Warn("acquirer connection refused: "+msg, append([]any{"remote", c.remote}, args...)...)
	_ = c.conn.Close()
	return false
}

// handshake completes TLS (if the listener speaks it) within a deadline
// and returns the verified client certificate's subject.
func (s *Switch) handshake(conn net.Conn) (string, error) {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return "", nil
	}
	d := s.live().Listen.FrameTimeout
	if d <= 0 {
		d = handshakeTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return "", err
	}
	return tlsconf.PeerSubject(tc.ConnectionState()), nil
}

// registry builds the acquirer registry of a config.
func registry(cfg *config.Config) *acquirers.Registry { return acquirers.NewRegistry(cfg.Acquirers) }

// limit applies the per-request checks of identity and load: field 32 must
// be the connection's acquirer's, and the acquirer's and connection's
// in-flight caps and rate, and the switch-wide in-flight cap, must allow
// one more. It answers a refused request itself and returns ok false. On
// ok the request holds a place in the switch-wide count (s.txns), and
// limited tells that it also holds an acquirer limiter slot; the Txn
// releases both (release), or unlimit before there is one.
func (c *acqConn) limit(v *iso.View) (limited, ok bool) {
	snap := c.s.routes.Load()
	if reg := snap.acqs; reg != c.reg && !c.reidentify(reg) {
		c.s.log.Warn("acquirer no longer configured after a reload: connection closed", "conn", c.id,
			"remote", c.remote, "was", c.acquirer)
		c.s.metrics.Rejected(metrics.ReasonUnknownAcquirer)
		c.decline(v, c.started, "", CodeNotPermitted, journal.SwitchDeclined, "acquirer no longer configured")
		c.hangUp = errAcquirerRemoved // the read loop ends; close flushes the 58 first
		return false, false
	}
	if c.inflight.Load() >= int64(c.s.live().Listen.MaxInFlight) {
		c.decline(v, c.started, "", CodeOverloaded, journal.SwitchDeclined, "connection in-flight cap reached")
		c.s.metrics.Rejected(metrics.ReasonInFlight)
		return false, false
	}
	if c.acq != nil {
		if limited, ok = c.limitAcquirer(v); !ok {
			return false, false
		}
	}
	// The switch-wide cap is taken last: a request another check refuses
	// never holds it.
	if !c.s.txns.tryAdd(snap.maxTotal) {
		if limited {
			c.s.limiter.End(c.acq)
		}
		c.s.metrics.Rejected(metrics.ReasonInFlight)
		c.decline(v, c.started, "", CodeOverloaded, journal.SwitchDeclined, "switch-wide in-flight cap reached")
		return false, false
	}
	return limited, true
}

// limitAcquirer applies the checks of the connection's acquirer: field 32
// and its limiter (in-flight and rate). limited: the request holds a
// limiter slot.
func (c *acqConn) limitAcquirer(v *iso.View) (limited, ok bool) {
	if !acquirers.CheckInstitution(c.acq, v.Field(32)) {
		c.s.log.Warn("field 32 is not this acquirer's institution id: impersonation refused", "conn", c.id,
			"acquirer", c.acquirer, "field32", string(v.Field(32)))
		c.s.metrics.Rejected(metrics.ReasonInstitution)
		c.decline(v, c.started, "", CodeNotPermitted, journal.SwitchDeclined, "field 32 is not the acquirer's institution id")
		return false, false
	}
	if ok, code := c.s.limiter.Begin(c.acq); !ok {
		reason := metrics.ReasonInFlight
		if code == CodeRateExceeded {
			reason = metrics.ReasonRate
		}
		c.s.metrics.Rejected(reason)
		c.decline(v, c.started, "", code, journal.SwitchDeclined, "acquirer limit: "+reason)
		return false, false
	}
	return true, true
}

// unlimit gives back what limit took, for a request refused before it
// became a Txn.
func (c *acqConn) unlimit(limited bool) {
	if limited {
		c.s.limiter.End(c.acq)
	}
	c.s.txns.done()
}

// reidentify applies a reloaded acquirer list to an open connection: it is
// who it was (by address and certificate), someone else, or no longer
// allowed at all (false). Enabling acquirers by reload subjects
// anonymous connections to the same checks.
func (c *acqConn) reidentify(reg *acquirers.Registry) bool {
	c.reg = reg
	if !reg.Enabled() {
		c.acq, c.acquirer = nil, ""
		return true
	}
	remote, _ := netip.ParseAddrPort(c.remote)
	a, ok := reg.Identify(remote.Addr(), c.subject)
	if !ok {
		return false
	}
	c.acq, c.acquirer = a, a.Name
	return true
}
