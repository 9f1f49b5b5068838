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
	"context"
	"sync"
	"sync/atomic"
)

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

// Run runs every link until ctx ends and they have all shut down.
func (g *Issuer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, l := range g.links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Run(ctx)
		}()
	}
	wg.Wait()
}
