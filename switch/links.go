package switchd

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/gctune"
	"github.com/cardswitch/cardswitch/switch/issuer"
	"github.com/cardswitch/cardswitch/switch/metrics"
)

// linkSet runs issuer links, each with its own lifetime: a reload starts
// new links and drains removed ones while the others keep running.
type linkSet struct {
	mu      sync.Mutex
	base    context.Context // ends at shutdown
	stop    context.CancelFunc
	running map[*issuer.Link]runningLink
	wg      sync.WaitGroup
}

type runningLink struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the link's Run has returned
}

func (ls *linkSet) init() {
	ls.base, ls.stop = context.WithCancel(context.Background())
	ls.running = make(map[*issuer.Link]runningLink)
}

// start runs l until stopLink or shutdown.
func (ls *linkSet) start(l *issuer.Link) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if _, ok := ls.running[l]; ok || ls.base.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(ls.base)
	rl := runningLink{cancel: cancel, done: make(chan struct{})}
	ls.running[l] = rl
	ls.wg.Add(1)
	go func() {
		defer ls.wg.Done()
		defer close(rl.done)
		l.Run(ctx)
	}()
}

// stopLink ends one link (it signs off and fails whatever is still
// pending) and waits until it has.
func (ls *linkSet) stopLink(l *issuer.Link) {
	ls.mu.Lock()
	rl, ok := ls.running[l]
	delete(ls.running, l)
	ls.mu.Unlock()
	if ok {
		rl.cancel()
		<-rl.done
	}
}

// shutdown stops every link and waits for them.
func (ls *linkSet) shutdown() {
	ls.stop()
	ls.wg.Wait()
}

// newLink builds link number conn to one endpoint of an issuer.
func (s *Switch) newLink(cfg *config.Config, ic config.Issuer, endpoint string, conn int) *issuer.Link {
	d, tr, _ := s.dialectOf(cfg, ic.Dialect) // checked: checkIssuerDialects
	edge := s.metrics.Edge(metrics.SideIssuer, ic.Name, d.Name)
	return issuer.NewLink(issuer.LinkConfig{
		Dialect: d, Translator: tr, OnTranslate: countTranslations(edge), MaxFrame: cfg.Listen.MaxMessageSize,
		Issuer: ic.Name, Addr: endpoint, Conn: conn, Timeout: ic.Timeout, EchoInterval: ic.EchoInterval,
		ConnectTimeout: ic.ConnectTimeout, ReconnectMin: ic.ReconnectMin, ReconnectMax: ic.ReconnectMax,
		MaxInFlight:  s.limits.LinkInFlight,
		WriteBacklog: s.limits.IssuerBacklog, STANSpace: s.limits.LinkSTANs, LateGrace: s.limits.LinkLateGrace, Spec: s.spec, Scanner: s.scanner, TLS: ic.TLS,
		Log: s.log, OnState: s.linkState, Dial: s.dialer(ic), Gate: s.linkGate(), Health: s.healthOf(ic.Name),
		Direct: s.direct,
	})
}

// dialer connects to an issuer endpoint, over TLS when the issuer has a
// tls section, with the certificates in force at each dial (a reload may
// have renewed them).
func (s *Switch) dialer(ic config.Issuer) func(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	if ic.TLS == nil {
		return func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	}
	return func(ctx context.Context, addr string) (net.Conn, error) { return s.tlsDial(ctx, &d, ic, addr) }
}

// buildIssuers makes the issuers of cfg, reusing the live links of prev
// whose endpoint and connection settings are unchanged (their timing is
// updated in place). fresh lists the links that must be started.
func (s *Switch) buildIssuers(cfg *config.Config, prev []*issuer.Issuer) (issuers []*issuer.Issuer, fresh []*issuer.Link) {
	byName := make(map[string]*issuer.Issuer, len(prev))
	for _, is := range prev {
		byName[is.Name] = is
	}
	total := maxTotal(cfg)
	for _, ic := range cfg.Issuers {
		links := make([]*issuer.Link, 0, len(ic.Endpoints)*ic.Connections)
		for _, ep := range ic.Endpoints {
			for conn := 1; conn <= max(ic.Connections, 1); conn++ {
				if old := byName[ic.Name]; old != nil {
					if l := old.Link(ep, conn); l != nil && sameConnection(l.Config(), ic) {
						l.SetTiming(ic.Timeout, ic.EchoInterval)
						links = append(links, l)
						continue
					}
				}
				l := s.newLink(cfg, ic, ep, conn)
				links = append(links, l)
				fresh = append(fresh, l)
			}
		}
		capped := config.MaxInFlightFor(ic, len(cfg.Issuers), total)
		is := issuer.New(ic.Name, links, capped, byName[ic.Name])
		h := s.healthOf(ic.Name)
		h.SetOfflineAfter(ic.OfflineAfter)
		is.SetHealth(h)
		issuers = append(issuers, is)
	}
	return issuers, fresh
}

// maxTotal is cfg's switch-wide in-flight cap under the memory limit in
// force: the one gctune applied from the config, or the operator's
// GOMEMLIMIT.
func maxTotal(cfg *config.Config) int {
	return config.MaxInFlightTotalFor(cfg.Listen, gctune.MemoryLimit())
}

// sameConnection: a live link can be kept when everything that shaped its
// connection is unchanged (timing alone can change in place).
func sameConnection(lc issuer.LinkConfig, ic config.Issuer) bool {
	return lc.ConnectTimeout == ic.ConnectTimeout && lc.ReconnectMin == ic.ReconnectMin &&
		lc.ReconnectMax == ic.ReconnectMax && sameTLS(lc.TLS, ic.TLS) && lc.Dialect.Name == dialectName(ic.Dialect)
}

func sameTLS(a, b *config.ClientTLS) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// drain closes a link that no route can reach any more, once requests
// already routed to it have their answers (or their timeout passed).
func (s *Switch) drain(l *issuer.Link) {
	// Requests that read the old routing snapshot just before the swap may
	// still be on their way to Send: give them a moment before waiting.
	select {
	case <-time.After(drainGrace):
	case <-s.links.base.Done():
		return // shutdown stops every link anyway
	}
	ctx, cancel := context.WithTimeout(s.links.base, l.Config().Timeout+time.Second)
	defer cancel()
	_ = l.WaitIdle(ctx)
	s.links.stopLink(l)
	name := l.Config().Issuer
	// Its link_up series goes too, unless a link to the same endpoint
	// replaced it (changed settings) and reports under the same labels.
	if is := s.issuerNamed(name); is == nil || is.Link(l.Addr(), l.Conn()) == nil {
		s.metrics.RemoveLink(name, l.Addr(), l.Conn())
	}
	s.linkChanges.notify(l, false) // Await callers may be waiting for the drain
	s.log.Info("issuer link drained and closed", "issuer", name, "endpoint", l.Addr(), "conn", l.Conn())
}

// drainGrace is far longer than the microseconds between a request reading
// the routing snapshot and handing itself to a link.
const drainGrace = 200 * time.Millisecond

// dialectName is a configured dialect name, "" meaning the default.
func dialectName(name string) string {
	if name == "" {
		return config.DefaultDialect
	}
	return name
}

// countTranslations counts an issuer link's translations in edge.
func countTranslations(edge *metrics.Edge) func(failed bool) {
	return func(failed bool) {
		if failed {
			edge.TranslateErrors.Inc()
			return
		}
		edge.Translated.Inc()
	}
}
