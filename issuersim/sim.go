package issuersim

import (
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/dialectio"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/moov-io/iso8583"
)

// Sim is a running issuer simulator. Create it with New, run Serve, stop it
// with Close.
type Sim struct {
	cfg       config.Simulator
	log       *slog.Logger
	ln        net.Listener
	spec      *iso8583.MessageSpec // the dialect's own: requests are read and answered in it
	dialect   iso.Dialect
	approvals approvalCodes
	stats     counters
	revDrops  reversalDrops
	onRequest atomic.Pointer[func(Request)]
	down      atomic.Bool  // SetDown: connections are closed as they come
	authSeen  atomic.Int64 // authorizations received, for DownAfter
	downFired atomic.Bool  // DownAfter took it down: once per process

	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close; interrupts the accept backoff
	conns  map[*conn]struct{}
	wg     sync.WaitGroup // Serve and every connection's read goroutine
}

// New validates cfg and binds cfg.Listen (":0" picks a free port; see Addr).
// A nil log discards everything.
func New(cfg config.Simulator, log *slog.Logger) (*Sim, error) {
	if err := validate(cfg); err != nil {
		return nil, err
	}
	d, err := dialectio.Lookup(cfg.Dialect)
	if err != nil {
		return nil, &ConfigError{Sim: cfg.Name, Key: "dialect", Reason: err.Error()}
	}
	return NewIn(cfg, d, log)
}

// NewIn is New speaking d, which may be a user-defined dialect of a
// switch config (config.Config.LookupDialect); cfg.Dialect is ignored.
func NewIn(cfg config.Simulator, d iso.Dialect, log *slog.Logger) (*Sim, error) {
	cfg.Dialect = "" // d is resolved: the rest of cfg is checked as a built-in's would be
	if err := validate(cfg); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Dialect = d.Name
	spec, err := d.Spec()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	cfg.Rules = slices.Clone(cfg.Rules) // the caller may reuse its slice
	s := &Sim{
		cfg:     cfg,
		ln:      ln,
		spec:    spec,
		dialect: d,
		done:    make(chan struct{}),
		conns:   make(map[*conn]struct{}),
	}
	s.approvals.prefix = cfg.ApprovalCodePrefix
	s.log = log.With("sim", cfg.Name, "addr", s.Addr(), "dialect", d.Name)
	return s, nil
}

// Addr returns the address the simulator is bound to.
func (s *Sim) Addr() string { return s.ln.Addr().String() }

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats { return s.stats.snapshot() }

// OnRequest installs an observer called for every request that unpacks,
// before it is answered, on the connection's read goroutine: a slow
// observer slows that connection. Set it before Serve; nil removes it.
func (s *Sim) OnRequest(fn func(Request)) {
	if fn == nil {
		s.onRequest.Store(nil)
		return
	}
	s.onRequest.Store(&fn)
}

// Serve accepts issuer links until Close, then returns nil. Accept errors
// other than the listener being closed are logged and retried after a
// backoff: running out of file descriptors must not end the simulator.
func (s *Sim) Serve() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	s.log.Info("issuer simulator listening")
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err == nil {
			backoff = 0
			s.start(nc)
			continue
		}
		if s.isClosed() {
			return nil
		}
		if errors.Is(err, net.ErrClosed) {
			return err // closed behind our back: retrying cannot help
		}
		backoff = min(max(2*backoff, acceptBackoffMin), acceptBackoffMax)
		s.log.Warn("accept failed, retrying", "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-s.done:
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (s *Sim) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// start registers and runs a connection, unless Close got there first.
func (s *Sim) start(nc net.Conn) {
	s.mu.Lock()
	if s.closed || s.down.Load() {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.stats.connections.Add(1)
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
}

// SetDown takes the simulated issuer down (true: every connection is
// closed, and new ones are closed as they are accepted, so a switch finds
// no live link) or brings it back up (false: it accepts and answers
// again), as an issuer host that goes away and comes back. The listener
// stays bound throughout: the address does not change.
func (s *Sim) SetDown(down bool) {
	s.mu.Lock()
	was := s.down.Swap(down)
	var conns []*conn
	if down {
		for c := range s.conns {
			conns = append(conns, c)
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	switch {
	case down && !was:
		s.log.Info("issuer simulator down: connections closed until it is brought up")
	case !down && was:
		s.log.Info("issuer simulator up")
	}
}

// Down reports whether the simulator is down (SetDown, DownAfter).
func (s *Sim) Down() bool { return s.down.Load() }

// Name is the simulator's config name.
func (s *Sim) Name() string { return s.cfg.Name }

// downAfter applies DownAfter to an authorization about to be decided:
// true when it takes the simulator down, the request then unanswered (and
// counted so before the links close: whoever sees them closed reads the
// count).
// It fires on the request after the DownAfter-th rather than after the
// DownAfter-th answer, because an answer only queued for writing could be
// lost with the closed link, and a tour must see exactly N answers.
func (s *Sim) downAfter() bool {
	n := int64(s.cfg.DownAfter)
	if n <= 0 || s.authSeen.Add(1) <= n || !s.downFired.CompareAndSwap(false, true) {
		return false
	}
	s.log.Info("issuer simulator going down: down_after reached", "down_after", n)
	s.stats.noAnswer.Add(1)
	s.SetDown(true)
	return true
}

// Close stops accepting, closes every connection, cancels pending delayed
// answers and waits for all goroutines. Later calls wait too and return nil.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	err := s.ln.Close()
	for _, c := range conns {
		c.shutdown()
	}
	s.wg.Wait()
	return err
}
