package switchd

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/tlsconf"
)

// certs holds the TLS configurations loaded from the certificate files:
// the acquirer listener's and each issuer link's. Every handshake reads
// the one in force, so a reload that loads new files changes what new
// handshakes use while live connections keep the session they have.
type certs struct {
	server atomic.Pointer[tls.Config] // nil: the listener is plain TCP
	client atomic.Pointer[clientCerts]
}

// clientKey names one issuer link's TLS setup: the tls section is part of
// it, so a link that a reload replaced (other files) and that is still
// draining keeps dialing with its own.
type clientKey struct {
	issuer, addr string
	tls          config.ClientTLS
}

type clientCerts map[clientKey]*tls.Config

// certSet is what a reload loaded, put in force by commit once the
// reload is accepted.
type certSet struct {
	server  *tls.Config // nil: keep the one in force (plain TCP, or the same certificates)
	client  clientCerts
	changed []string // sections whose loaded certificates or CAs differ from those in force
}

// CertError is a certificate or CA file of a reloaded configuration that
// does not load: the reload is rejected. Its text names the section and
// the file, never the file's content.
type CertError struct {
	Section string // "listen.tls" or "issuers[NAME].tls"
	Err     error  // a *tlsconf.Error
}

func (e *CertError) Error() string { return e.Section + ": " + e.Err.Error() }

// Unwrap returns the tlsconf error.
func (e *CertError) Unwrap() error { return e.Err }

// CertErrors are every certificate problem of one reload, one per line
// (the admin answer lists them as problems).
type CertErrors []*CertError

func (es CertErrors) Error() string { return strings.Join(es.Lines(), "\n") }

// Lines is one line per problem.
func (es CertErrors) Lines() []string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return lines
}

// Unwrap returns the problems, for errors.As.
func (es CertErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// listenAcquirers binds the acquirer listener. With TLS, each handshake
// takes the server configuration in force (GetConfigForClient), which a
// reload replaces.
func (s *Switch) listenAcquirers(lc config.Listen) (net.Listener, error) {
	ln, err := net.Listen("tcp", lc.Address)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", lc.Address, err)
	}
	if lc.TLS == nil {
		return ln, nil
	}
	cfg, err := tlsconf.ServerConfig(*lc.TLS)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("listen.tls: %w", err)
	}
	s.certs.server.Store(cfg)
	return tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return s.certs.server.Load(), nil }}), nil
}

// loadCerts reads every certificate, key and CA file of cfg: the
// listener's (when it speaks TLS; switching between TLS and plain TCP
// needs a restart) and each TLS issuer's, per endpoint. Nothing is put in
// force here (see commit).
func (s *Switch) loadCerts(cfg *config.Config) (certSet, error) {
	var cs certSet
	var errs CertErrors
	cur := s.certs.server.Load()
	if cur != nil && cfg.Listen.TLS != nil {
		sc, err := tlsconf.ServerConfig(*cfg.Listen.TLS)
		if err != nil {
			errs = append(errs, &CertError{Section: "listen.tls", Err: err})
		} else if !sameServerCerts(cur, sc) {
			// Unchanged content keeps the config in force, and with it the
			// session ticket keys its clients resume with.
			cs.server = sc
			cs.changed = append(cs.changed, "listen.tls")
		}
	}
	var inForce clientCerts
	if p := s.certs.client.Load(); p != nil {
		inForce = *p
	}
	cs.client = make(clientCerts)
	for _, ic := range cfg.Issuers {
		if ic.TLS == nil {
			continue
		}
		section := "issuers[" + ic.Name + "].tls"
		for _, ep := range ic.Endpoints {
			k := clientKey{issuer: ic.Name, addr: ep, tls: *ic.TLS}
			cc, err := tlsconf.ClientConfig(*ic.TLS, ep)
			if err != nil {
				errs = append(errs, &CertError{Section: section, Err: err})
				break
			}
			cs.client[k] = cc
			if old := inForce[k]; old != nil && !sameClientCerts(old, cc) && !slices.Contains(cs.changed, section) {
				cs.changed = append(cs.changed, section)
			}
		}
	}
	if len(errs) > 0 {
		return cs, errs
	}
	return cs, nil
}

// commit puts a loaded certSet in force for new handshakes.
func (c *certs) commit(cs certSet) {
	if cs.server != nil {
		c.server.Store(cs.server)
	}
	c.client.Store(&cs.client)
}

// clientTLS is the configuration in force for dialing addr of issuer ic.
func (c *certs) clientTLS(ic config.Issuer, addr string) (*tls.Config, error) {
	if p := c.client.Load(); p != nil {
		if cc := (*p)[clientKey{issuer: ic.Name, addr: addr, tls: *ic.TLS}]; cc != nil {
			return cc, nil
		}
	}
	// Not loaded at start (a file unreadable then): each attempt tries
	// again, and the link logs why it fails.
	cc, err := tlsconf.ClientConfig(*ic.TLS, addr)
	if err != nil {
		return nil, &CertError{Section: "issuers[" + ic.Name + "].tls", Err: err}
	}
	return cc, nil
}

// initClientCerts loads the issuers' TLS files at start. One that does not
// load is left out: its link's dial attempts report it (see clientTLS)
// instead of the switch refusing to start.
func (s *Switch) initClientCerts(cfg *config.Config) {
	m := make(clientCerts)
	for _, ic := range cfg.Issuers {
		if ic.TLS == nil {
			continue
		}
		for _, ep := range ic.Endpoints {
			if cc, err := tlsconf.ClientConfig(*ic.TLS, ep); err == nil {
				m[clientKey{issuer: ic.Name, addr: ep, tls: *ic.TLS}] = cc
			}
		}
	}
	s.certs.client.Store(&m)
}

// tlsDial dials addr over TLS with the issuer's configuration in force.
func (s *Switch) tlsDial(ctx context.Context, d *net.Dialer, ic config.Issuer, addr string) (net.Conn, error) {
	cfg, err := s.certs.clientTLS(ic, addr)
	if err != nil {
		return nil, err
	}
	td := tls.Dialer{NetDialer: d, Config: cfg}
	return td.DialContext(ctx, "tcp", addr)
}

func sameServerCerts(a, b *tls.Config) bool {
	return sameChains(a.Certificates, b.Certificates) && a.ClientCAs.Equal(b.ClientCAs)
}

func sameClientCerts(a, b *tls.Config) bool {
	return sameChains(a.Certificates, b.Certificates) && a.RootCAs.Equal(b.RootCAs)
}

func sameChains(a, b []tls.Certificate) bool {
	return slices.EqualFunc(a, b, func(x, y tls.Certificate) bool {
		return slices.EqualFunc(x.Certificate, y.Certificate, bytes.Equal)
	})
}

// certsOnly ends a reload whose config file is unchanged: only the
// certificate files may have been renewed.
func (s *Switch) certsOnly(res ReloadResult, cs certSet) ReloadResult {
	if len(cs.changed) == 0 {
		s.log.Info("config unchanged (same content hash); nothing to do", "hash", short(res.Hash))
		return res
	}
	res.Changed, res.Diff = true, certLines(cs)
	s.reloads(true)
	s.log.Info("certificates reloaded; new handshakes use them, live connections keep theirs", "sections", cs.changed)
	return res
}

// certLines is the reload answer's Diff lines for renewed certificates.
func certLines(cs certSet) string {
	var b strings.Builder
	for _, sec := range cs.changed {
		b.WriteString("certificates: " + sec + " renewed\n")
	}
	return b.String()
}
