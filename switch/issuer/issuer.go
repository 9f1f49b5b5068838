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
	"github.com/cardswitch/cardswitch/switch/internal/wire"
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

// Timeouts is the issuer's consecutive timeouts now (Health).
func (g *Issuer) Timeouts() int64 { return g.health.Timeouts() }

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
	return g.send(t, stanOff, int(g.rr.Add(1)), nil)
}

// SendBurst is Send for a request of b, the burst its acquirer's reader is
// handling: it goes to the burst's link (the next live one if that one
// refuses) and its link's writer is woken by b.Done. Successive bursts
// take the links in turn, so requests still spread over every live link.
func (g *Issuer) SendBurst(t *Txn, stanOff int, b *Burst) error {
	err := g.send(t, stanOff, int(b.link), &b.held)
	if err == nil {
		if b.frames++; b.frames >= burstFrames {
			b.Done()
		}
	}
	return err
}

// send tries the live links from start.
func (g *Issuer) send(t *Txn, stanOff, start int, held *wire.Held) error {
	n := len(g.links)
	err := ErrNoLink
	for i := 0; i < n; i++ {
		l := g.links[(start+i)%n]
		if !l.Up() {
			continue
		}
		if err = l.send(t, stanOff, held); err == nil {
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

// Burst is what the requests one reader goroutine handles from one read
// share: the link index they go to and the link writers to wake once
// they are queued. A burst read in one go thus leaves in one write, on
// one link, where spreading it request by request split it into a write
// per link (more syscalls per request, and mutual waits on every link's
// lock from every acquirer's reader). It belongs to its goroutine; the
// zero Burst is ready.
type Burst struct {
	link   uint32 // index (mod the issuer's links) of the link tried first
	frames int    // requests queued since the burst began
	held   wire.Held
}

// burstFrames caps the requests one burst puts on one link: past it the
// link's writer is woken and the rest go to the next link. A host that
// answers a burst only once it has read all of it holds the first answer
// for the whole burst's work; 16 requests per write keep the syscall per
// request small while that wait stays short.
const burstFrames = 16

// NewBurst returns a Burst whose first link is seed's (mod the links):
// the acquirer connection's id, so that connections start on different
// links.
func NewBurst(seed uint64) Burst { return Burst{link: uint32(seed)} } // #nosec G115 -- only its residue mod the link count matters

// Done ends the burst: the writers it queued to are woken, and the next
// burst starts on the next link.
func (b *Burst) Done() {
	b.held.Wake()
	if b.frames > 0 {
		b.link++
		b.frames = 0
	}
}
