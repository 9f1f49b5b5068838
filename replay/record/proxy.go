package record

import (
	"errors"
	"net"
	"sync"

	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
)

// Proxy is a running recording proxy: New binds, Serve accepts, Close stops.
type Proxy struct {
	opts    Options
	ln      net.Listener
	scanner *iso.Scanner     // of the dialect's text form
	codec   *dialectio.Codec // the dialect's encoding <-> text form
	pans    *panMap
	journal *journal

	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}
	wg     sync.WaitGroup // Serve and every connection's goroutines
}

// New checks o and binds o.Listen.
func New(o Options) (*Proxy, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	codec, err := dialectio.New(o.Dialect)
	if err != nil {
		return nil, err
	}
	sc, err := iso.NewScanner(codec.TextSpec())
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		opts:    o,
		ln:      ln,
		scanner: sc,
		codec:   codec,
		pans:    newPANMap(),
		journal: newJournal(o.Out, o.Dialect.Name, o.Log, o.AnswerWait),
		conns:   map[*conn]struct{}{},
	}
	p.opts.Log = o.Log.With("listen", p.Addr(), "upstream", o.Upstream)
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Recorded returns the number of requests written to the trace so far.
func (p *Proxy) Recorded() int { return p.journal.written() }

// Serve accepts clients until Close, then returns nil. Each client gets
// its own upstream connection; a client whose upstream cannot be dialed
// is disconnected.
func (p *Proxy) Serve() error {
	if !p.track(nil) {
		return nil
	}
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			if p.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		c := &conn{p: p, client: nc}
		if !p.track(c) {
			_ = nc.Close()
			return nil
		}
		go func() {
			defer p.wg.Done()
			c.serve()
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
		}()
	}
}

// track registers a goroutine (and c, when not nil) unless closed.
func (p *Proxy) track(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if c != nil {
		p.conns[c] = struct{}{}
	}
	p.wg.Add(1)
	return true
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Close stops accepting, closes every connection, waits for all
// goroutines and writes the requests still waiting (without "expect"). It
// returns the first error writing the trace. Later calls return nil.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if werr := p.journal.closeAll(); werr != nil {
		return werr
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
