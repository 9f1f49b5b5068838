// Package issuer keeps the switch's persistent, monitored connections to
// issuers and matches their responses to the requests sent on them.
//
// moov-io's iso8583-connection is not used for these links: it keys pending
// requests by STAN alone (a duplicate silently overwrites the first), runs
// a goroutine per request, cannot Connect again after Close and sets no
// socket deadlines. A link here rewrites STANs so they are unique per link,
// batches writes, sweeps timeouts from one queue, and reconnects forever.
package issuer

import "sync/atomic"

// Issuer is the set of links to one issuer's endpoints.
type Issuer struct {
	Name  string
	links []*Link
	rr    atomic.Uint32
}

// New groups links under an issuer name.
func New(name string, links []*Link) *Issuer {
	return &Issuer{Name: name, links: links}
}

// Links returns the issuer's links.
func (g *Issuer) Links() []*Link { return g.links }

// UpLinks counts the links that are signed on.
func (g *Issuer) UpLinks() int {
	n := 0
	for _, l := range g.links {
		if l.Up() {
			n++
		}
	}
	return n
}

// Send puts t on a live link, spreading requests round-robin; it tries the
// next live link when one refuses. ErrNoLink when none takes it: the
// acquirer is answered at once instead of waiting on a dead issuer.
func (g *Issuer) Send(t *Txn, stanOff int) error {
	n := len(g.links)
	start := int(g.rr.Add(1))
	err := ErrNoLink
	for i := 0; i < n; i++ {
		l := g.links[(start+i)%n]
		if !l.Up() {
			continue
		}
		if err = l.Send(t, stanOff); err == nil {
			return nil
		}
	}
	return err
}

// Link returns the issuer's link to addr, nil if it has none.
func (g *Issuer) Link(addr string) *Link {
	for _, l := range g.links {
		if l.Addr() == addr {
			return l
		}
	}
	return nil
}

// InFlight is the number of requests pending on all the issuer's links.
func (g *Issuer) InFlight() int {
	n := 0
	for _, l := range g.links {
		n += l.InFlight()
	}
	return n
}
