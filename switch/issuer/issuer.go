// Package issuer keeps the switch's persistent, monitored connections to
// issuers and matches their responses to the requests sent on them.
//
// moov-io's iso8583-connection is not used for these links: it keys pending
// requests by STAN alone (a duplicate silently overwrites the first), runs
// a goroutine per request, cannot Connect again after Close and sets no
// socket deadlines. A link here rewrites STANs so they are unique per link,
// batches writes, sweeps timeouts from one queue, and reconnects forever.
package issuer

import (
	"errors"
	"sync/atomic"

	"github.com/cardswitch/cardswitch/iso"
)

// Issuer is the set of links to one issuer's endpoints.
type Issuer struct {
	Name  string
	links []*Link
	rr    atomic.Uint32
	// admitted counts the requests holding a place under maxInFlight
	// (Admit). It is shared with the Issuer of the same name that a
	// reload replaced: requests admitted before the reload still count.
	admitted    *atomic.Int64
	maxInFlight int64
	health      *Health // nil: never offline
}

// ErrIssuerBusy: the issuer has its max_in_flight requests waiting.
var ErrIssuerBusy = errors.New("issuer at its in-flight limit")

// New groups links under an issuer name, with at most maxInFlight requests
// admitted at once (0: no limit). prev, when not nil, is the Issuer of the
// same name it replaces: the count of admitted requests carries over.
func New(name string, links []*Link, maxInFlight int, prev *Issuer) *Issuer {
	g := &Issuer{Name: name, links: links, maxInFlight: int64(maxInFlight)}
	if prev != nil {
		g.admitted = prev.admitted
	} else {
		g.admitted = new(atomic.Int64)
	}
	return g
}

// Admit takes a place for t under the issuer's in-flight cap; false when
// it is full (t holds nothing then). One atomic add, and one more to
// undo it on refusal. The Txn's owner gives the place back with t.Leave
// once t is finished, whatever the outcome.
func (g *Issuer) Admit(t *Txn) bool {
	if n := g.admitted.Add(1); g.maxInFlight > 0 && n > g.maxInFlight {
		g.admitted.Add(-1)
		return false
	}
	t.admitted = g.admitted
	return true
}

// SetHealth makes h the issuer's availability (its links report to it).
func (g *Issuer) SetHealth(h *Health) { g.health = h }

// Offline reports whether the switch took the issuer offline (Health).
func (g *Issuer) Offline() bool { return g.health.Offline() }

// Admitted is the number of requests holding a place under the cap.
func (g *Issuer) Admitted() int64 { return g.admitted.Load() }

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
		if te := (*iso.TranslateError)(nil); errors.As(err, &te) {
			return err // every link speaks the issuer's dialect: no other can take it
		}
	}
	return err
}

// Link returns the issuer's link number conn (from 1) to addr, nil if it
// has none.
func (g *Issuer) Link(addr string, conn int) *Link {
	for _, l := range g.links {
		if l.Addr() == addr && l.Conn() == conn {
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
