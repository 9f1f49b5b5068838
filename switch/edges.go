package switchd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/switch/metrics"
	"github.com/cardswitch/cardswitch/switch/tlsconf"
)

// The switch's edges: every acquirer listener and issuer link speaks its
// own dialect (framing, encodings, 1987 or 1993), and the middle of the
// switch (scan, screen, routing, link STANs, matching, journal, its own
// answers) works on canonical messages, the iso87ascii layout. A
// listener's connections translate each request to the canonical form
// right after reading it (acquirer.go: readLoop) and each answer from it
// right before framing it (queueAnswer); an issuer link translates what it
// writes and reads (issuer.LinkConfig.Translator). A canonical dialect
// needs no translation, only its framing.

// listener is one acquirer listener: listen.address or a listeners[]
// entry. Its dialect is fixed at start (restart-only).
type listener struct {
	name    string
	ln      net.Listener
	dialect iso.Dialect
	tr      *iso.Translator // nil: canonical
	edge    *metrics.Edge
	// journalName is the dialect's name as the journal records it: "" for
	// iso87ascii (journal.Entry).
	journalName string
}

// framed: the listener's answers need more than the canonical writer's
// 2-byte length (a translation or a header to echo): queueAnswer's path.
func (l *listener) framed() bool {
	return l.tr != nil || l.dialect.Framing.Header == iso.HeaderTPDU
}

// translators caches one Translator per dialect: they are immutable and
// shared by every listener and link speaking it.
type translators struct {
	mu sync.Mutex
	m  map[string]*iso.Translator // by dialect name and spec
}

// of returns d's translator, nil for a canonical dialect.
func (ts *translators) of(d iso.Dialect) (*iso.Translator, error) {
	if d.Canonical() {
		return nil, nil
	}
	key := d.Name + "\x00" + d.SpecFile
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if tr := ts.m[key]; tr != nil {
		return tr, nil
	}
	tr, err := iso.NewTranslator(d)
	if err != nil {
		return nil, fmt.Errorf("dialect %s: %w", d.Name, err)
	}
	if ts.m == nil {
		ts.m = make(map[string]*iso.Translator)
	}
	ts.m[key] = tr
	return tr, nil
}

// dialectOf resolves the dialect called name in cfg, with its translator.
func (s *Switch) dialectOf(cfg *config.Config, name string) (iso.Dialect, *iso.Translator, error) {
	d, ok := cfg.LookupDialect(name)
	if !ok {
		return d, nil, fmt.Errorf("unknown dialect %q", name)
	}
	tr, err := s.translators.of(d)
	return d, tr, err
}

// checkIssuerDialects makes sure every issuer's dialect of cfg can be
// translated before a link is built with it (New, a reload).
func (s *Switch) checkIssuerDialects(cfg *config.Config) error {
	for _, ic := range cfg.Issuers {
		if _, _, err := s.dialectOf(cfg, ic.Dialect); err != nil {
			return fmt.Errorf("issuers (%s): %w", ic.Name, err)
		}
	}
	return nil
}

// listenAll binds listen.address and every listeners[] entry; on failure
// the ones bound are closed.
func (s *Switch) listenAll(cfg *config.Config) (err error) {
	defer func() {
		if err != nil {
			for _, l := range s.listeners {
				_ = l.ln.Close()
			}
			s.listeners = nil
		}
	}()
	main, err := s.newListener(cfg, config.MainListener, cfg.Listen.Dialect)
	if err != nil {
		return err
	}
	if main.ln, err = s.listenAcquirers(cfg.Listen); err != nil {
		return err
	}
	s.listeners = append(s.listeners, main)
	for _, lc := range cfg.Listeners {
		l, err := s.newListener(cfg, lc.Name, lc.Dialect)
		if err != nil {
			return err
		}
		if l.ln, err = listenExtra(lc); err != nil {
			return err
		}
		s.listeners = append(s.listeners, l)
	}
	return nil
}

func (s *Switch) newListener(cfg *config.Config, name, dialect string) (*listener, error) {
	d, tr, err := s.dialectOf(cfg, dialect)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", name, err)
	}
	return &listener{name: name, dialect: d, tr: tr, edge: s.metrics.Edge(metrics.SideAcquirer, name, d.Name),
		journalName: journalDialect(d.Name)}, nil
}

// listenExtra binds a listeners[] entry. Its TLS files are read here, once:
// unlike listen.tls they are not re-read by a reload.
func listenExtra(lc config.Listener) (net.Listener, error) {
	ln, err := net.Listen("tcp", lc.Address)
	if err != nil {
		return nil, fmt.Errorf("listeners (%s): listen %s: %w", lc.Name, lc.Address, err)
	}
	if lc.TLS == nil {
		return ln, nil
	}
	cfg, err := tlsconf.ServerConfig(*lc.TLS)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("listeners (%s).tls: %w", lc.Name, err)
	}
	return tls.NewListener(ln, cfg), nil
}

// ListenerAddr is the address of the acquirer listener called name
// (config.MainListener for listen.address), nil if there is none.
func (s *Switch) ListenerAddr(name string) net.Addr {
	for _, l := range s.listeners {
		if l.name == name {
			return l.ln.Addr()
		}
	}
	return nil
}

// framingClosed reports a frame that broke the listener's framing: the
// stream cannot be resynchronised, so the connection closes (as for a
// length above the maximum), logged and counted per listener.
func (c *acqConn) framingClosed(err error) bool {
	var fe *iso.FramingError
	if !errors.As(err, &fe) || errors.Is(err, iso.ErrFrameTooLarge) {
		return false
	}
	c.lst.edge.FramingErrors.Inc()
	c.s.log.Warn("closing acquirer connection: frame breaks its dialect's framing", "conn", c.id,
		"remote", c.remote, "listener", c.lst.name, "dialect", c.lst.dialect.Name, "err", err)
	return true
}

// journalDialect is a dialect name as the journal records it: "" for
// iso87ascii, so that same-dialect entries keep their records as they were.
func journalDialect(name string) string {
	if name == config.DefaultDialect {
		return ""
	}
	return name
}

// issuerDialects maps the issuers whose dialect is not iso87ascii to
// their dialect's name; nil when there are none.
func issuerDialects(cfg *config.Config) map[string]string {
	var m map[string]string
	for _, ic := range cfg.Issuers {
		if n := journalDialect(dialectName(ic.Dialect)); n != "" {
			if m == nil {
				m = make(map[string]string)
			}
			m[ic.Name] = n
		}
	}
	return m
}

// issuerDialect is the journal's name for the dialect of the issuer
// called name ("" when it is iso87ascii, or there is no issuer).
func (sn *snapshot) issuerDialect(name string) string {
	if sn.dialects == nil || name == "" {
		return ""
	}
	return sn.dialects[name]
}
