package switchd

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/acquirers"
	"github.com/cardswitch/cardswitch/switch/metrics"
	"github.com/cardswitch/cardswitch/switch/tlsconf"
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
		return nil, s.refuseConn(c, metrics.ReasonMaxConnections, "connection cap reached", "max", max)
	}
	source := release
	release = func() { s.open.Add(-1); source() }
	subject, err := s.handshake(c.conn)
	if err != nil {
		release()
		return nil, s.refuseConn(c, metrics.ReasonTLS, "TLS handshake failed", "err", err)
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
		return nil, s.refuseConn(c, metrics.ReasonUnknownAcquirer, "unknown acquirer: source address or certificate not configured",
			"subject", subject)
	}
	relAcq, ok := s.limiter.Connect(a)
	if !ok {
		release()
		return nil, s.refuseConn(c, metrics.ReasonMaxConnections, "acquirer connection cap reached", "acquirer", a.Name)
	}
	c.acq, c.acquirer = a, a.Name
	c.shownName.Store(&a.Name)
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
		return nil, s.refuseConn(c, metrics.ReasonMaxConnectionsPerIP, "too many connections from this address",
			"max", lc.MaxConnectionsPerIP)
	case metrics.ReasonMaxPendingPerIP:
		return nil, s.refuseConn(c, metrics.ReasonMaxPendingPerIP,
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

// refuseConn closes a connection admit refused, counted under reason.
func (s *Switch) refuseConn(c *acqConn, reason, msg string, args ...any) bool {
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

// reidentify applies a reloaded acquirer list to an open connection: it is
// who it was (by address and certificate), someone else, or no longer
// allowed at all (false). Enabling acquirers by reload subjects
// anonymous connections to the same checks.
func (c *acqConn) reidentify(reg *acquirers.Registry) bool {
	c.reg = reg
	if !reg.Enabled() {
		c.acq, c.acquirer = nil, ""
		c.shownName.Store(nil)
		return true
	}
	remote, _ := netip.ParseAddrPort(c.remote)
	a, ok := reg.Identify(remote.Addr(), c.subject)
	if !ok {
		return false
	}
	c.acq, c.acquirer = a, a.Name
	c.shownName.Store(&a.Name)
	return true
}
