package switchd

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/journal"
	"github.com/cardswitch/cardswitch/routing"
	"github.com/cardswitch/cardswitch/switch/acquirers"
	"github.com/cardswitch/cardswitch/switch/admin"
	"github.com/cardswitch/cardswitch/switch/internal/lograte"
	"github.com/cardswitch/cardswitch/switch/internal/wire"
	"github.com/cardswitch/cardswitch/switch/issuer"
	"github.com/cardswitch/cardswitch/switch/metrics"
	"github.com/cardswitch/cardswitch/switch/watch"
	"github.com/moov-io/iso8583"
)

// Switch is one running cardswitch: the acquirer listener, the issuer
// links and any in-process issuer simulators of its configuration.
//
// Its configuration is the live snapshot (routes, swapped whole by a
// reload; live reads it) and source, the one restart-only setting read
// after New: the keys a reload cannot change (listen.address, journal.path,
// admin.address, ...) are applied by New and not kept.
type Switch struct {
	source  string // the config file: reloads and the watch read it again
	log     *slog.Logger
	logRate *lograte.Handler // log's rate limit, wrapping the logger given
	limits  Limits
	spec    *iso8583.MessageSpec
	scanner *iso.Scanner

	listeners   []*listener // listen.address's first; fixed at start
	translators translators
	routes      atomic.Pointer[snapshot]
	links       linkSet
	stats       counters
	linkChanges linkChanges
	certs       certs // TLS configurations in force, replaced by a reload

	metrics *metrics.Metrics
	admin   *admin.Server    // nil when admin.address is ""
	sims    admin.Simulators // WithSimulators: listed and driven by the admin listener
	jrnl    journal.Store    // nil without a journal
	claims  claimer          // jrnl when it decides duplicates across nodes (PostgreSQL), else nil
	routing routingHash      // of the config in force, for the heartbeat (cluster.go)
	dups    *dupCache        // nil without a journal
	revs    *reversalMgr     // nil without a journal

	lockedReversals atomic.Int64 // stored messages whose key is gone, counted at start

	healthMu sync.Mutex
	health   map[string]*issuer.Health // by issuer name, kept across reloads (health.go)

	watch    bool
	reloadMu sync.Mutex     // one reload at a time
	bg       sync.WaitGroup // drains and watchers

	mu       sync.Mutex
	conns    map[*acqConn]struct{}
	limiter  *acquirers.Limiter
	perIP    perIP        // connections per source address
	open     atomic.Int64 // acquirer connections open
	draining atomic.Bool
	lingerAt atomic.Int64   // unix nanos: acquirer reads end then (shutdown)
	handlers sync.WaitGroup // acquirer connection goroutines
	txns     inflight       // requests waiting for an issuer
	nextConn atomic.Uint64

	// The status page's (status.go): when Run started, the counters'
	// readings, the last reloads and the last finished transactions.
	started       time.Time
	series        statusSeries
	reloadHistory reloadHistory
	ring          txnRing

	revClock func() time.Time // the reversal rate limiters' clock; nil: time.Now (tests set it)
	revPass  func()           // called after each pass over due reversals; nil: none (tests set it)
	// indexGate pauses the journal's indexer (journal.Options.IndexGate); nil: none (tests set it)
	indexGate <-chan struct{}

	// direct is which held bursts their reader writes itself (wiredirect.go);
	// directSet: an Option chose it, CARDSWITCH_WIRE_DIRECT is not read.
	direct    wire.Direct
	directSet bool
}

// snapshot is the routing state one request is routed with, swapped whole
// by a reload: a request is routed wholly by the old or the new one.
type snapshot struct {
	cfg     *config.Config
	table   *routing.Table
	issuers []*issuer.Issuer // by routing issuer index
	acqs    *acquirers.Registry
	// maxTotal is the switch-wide in-flight cap in force
	// (config.MaxInFlightTotalFor under the memory limit in force).
	maxTotal int64
	// dialects are the issuers' dialects the journal records
	// (issuerDialects); nil when every issuer speaks iso87ascii.
	dialects map[string]string
}

// Option adjusts a Switch built by New.
type Option func(*Switch)

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Switch) { s.log = l } }

// WithWatch turns watching the config file for changes on or off (default
// on when the config came from a file).
func WithWatch(on bool) Option { return func(s *Switch) { s.watch = on } }

// WithSimulators gives the admin listener the issuer simulators running
// beside the switch (the config's simulators[]) to list and take down or
// up: the switch itself knows nothing of simulators.
func WithSimulators(sims admin.Simulators) Option { return func(s *Switch) { s.sims = sims } }

// WithLimits replaces DefaultLimits.
func WithLimits(l Limits) Option { return func(s *Switch) { s.limits = l } }

// New validates nothing further than cfg already is (config.Load
// validated it), binds the in-process simulators and the acquirer
// listener, and prepares the issuer links. Nothing is served until Run. A
// listen address of port 0 gets a free port: Addr tells which.
func New(cfg *config.Config, opts ...Option) (_ *Switch, err error) {
	s := &Switch{source: cfg.Source, log: slog.Default(), limits: DefaultLimits, spec: iso.Spec87(), watch: true, limiter: acquirers.NewLimiter(),
		conns: make(map[*acqConn]struct{})}
	for _, o := range opts {
		o(s)
	}
	// Every line of the switch at info level and above goes through the
	// rate limit, so that no per-frame or per-answer line can be multiplied
	// by a peer; debug lines are wanted whole when they are on.
	s.logRate = lograte.New(s.log.Handler(), lograte.Limits{Burst: s.limits.LogBurst,
		Interval: s.limits.LogInterval, MaxKeys: logKeys, Below: slog.LevelInfo})
	s.log = slog.New(s.logRate)
	if s.scanner, err = iso.NewScanner(s.spec); err != nil {
		return nil, err
	}
	if err = s.setDirect(cfg); err != nil {
		return nil, err
	}
	s.linkChanges.init()
	s.links.init()
	defer func() {
		if err != nil {
			if s.jrnl != nil {
				_ = s.jrnl.Close()
			}
			if s.admin != nil {
				_ = s.admin.Close(context.Background())
			}
		}
	}()
	if err = s.openJournal(cfg, inFlightHold(cfg)); err != nil {
		return nil, err
	}
	if err = s.setupOps(cfg); err != nil {
		return nil, err
	}
	if err = s.checkIssuerDialects(cfg); err != nil {
		return nil, err
	}
	if err = s.listenAll(cfg); err != nil {
		return nil, err
	}
	s.initClientCerts(cfg)
	issuers, _ := s.buildIssuers(cfg, nil)
	s.routes.Store(&snapshot{cfg: cfg, table: cfg.Table(), issuers: issuers, acqs: registry(cfg),
		maxTotal: int64(maxTotal(cfg)), dialects: issuerDialects(cfg)})
	return s, nil
}

// live is the configuration in force (the startup one until a reload).
func (s *Switch) live() *config.Config { return s.routes.Load().cfg }

// Addr is the address of the acquirer listener of listen.address.
func (s *Switch) Addr() net.Addr { return s.listeners[0].ln.Addr() }

// Run serves until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (up to the configured
// shutdown timeout), closes issuer links and acquirer connections, and
// returns nil.
func (s *Switch) Run(ctx context.Context) error {
	var bg sync.WaitGroup
	s.started = time.Now()
	s.beatNow(true)
	for _, is := range s.routes.Load().issuers {
		for _, l := range is.Links() {
			s.links.start(l)
		}
	}
	if s.watch && s.source != config.DefaultSource {
		err := watch.File(ctx, s.source, s.log, func() { _, _ = s.Reload(ctx) })
		if err != nil {
			s.log.Warn("cannot watch the config file; reload with SIGHUP or POST /admin/reload", "err", err)
		}
	}
	if s.revs != nil {
		s.revs.start()
		bg.Add(1)
		go func() {
			defer bg.Done()
			s.prune(ctx)
		}()
	}
	if s.admin != nil {
		// The first reading before the listener serves: the charts
		// start from it.
		s.series.tick(s.started, s.metrics.Totals)
		bg.Add(2)
		go func() {
			defer bg.Done()
			s.runSeries(ctx)
		}()
		go func() {
			defer bg.Done()
			if err := s.admin.Serve(); err != nil {
				s.log.Error("admin listener stopped", "err", err)
			}
		}()
	}
	accepted := make(chan struct{})
	var serving sync.WaitGroup
	for _, l := range s.listeners {
		serving.Add(1)
		go func() {
			defer serving.Done()
			serveTCP(l.ln, func(conn net.Conn) { s.handleConn(l, conn) }, s.log)
		}()
	}
	go func() {
		serving.Wait()
		close(accepted)
	}()
	snap := s.routes.Load()
	s.log.Info("cardswitch listening", "addr", s.Addr().String(), "admin", s.AdminAddr(), "config", s.source,
		"issuers", len(snap.issuers), "routes", snap.table.Len(), "listeners", len(s.listeners))
	for _, l := range s.listeners[1:] {
		s.log.Info("acquirer listener", "name", l.name, "addr", l.ln.Addr().String(), "dialect", l.dialect.Name)
	}

	<-ctx.Done()
	s.shutdown(accepted)
	if s.admin != nil {
		_ = s.admin.Close(context.Background())
	}
	bg.Wait()
	s.logRate.Close()
	return nil
}

// shutdown: the listener first; then requests in flight finish (bounded
// wait) while new ones are answered 91; then the links close; then each
// acquirer connection, after a short linger, flushes and closes.
func (s *Switch) shutdown(accepted <-chan struct{}) {
	s.log.Info("shutting down: no new connections; draining requests in flight",
		"timeout", s.live().Listen.ShutdownTimeout)
	for _, l := range s.listeners {
		_ = l.ln.Close()
	}
	<-accepted
	s.draining.Store(true)
	s.reloadMu.Lock() // a reload under way finishes; later ones are refused
	s.reloadMu.Unlock()
	if !s.txns.wait(s.live().Listen.ShutdownTimeout) {
		s.log.Warn("shutdown timeout: requests still in flight are answered 91")
	}
	s.links.shutdown()
	s.bg.Wait()
	s.txns.wait(5 * time.Second) // answers for what the links failed at close
	linger := time.Now().Add(s.live().Listen.CloseLinger)
	s.lingerAt.Store(linger.UnixNano())
	s.eachConn(func(c *acqConn) { _ = c.conn.SetReadDeadline(linger) })
	s.handlers.Wait()
	s.closeJournal() // after the linger: the 91s answered in it are journaled too
	s.log.Info("shutdown complete")
}

func (s *Switch) eachConn(f func(*acqConn)) {
	s.mu.Lock()
	cs := make([]*acqConn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		f(c)
	}
}
