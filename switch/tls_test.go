package switchd_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/testpki"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tlsPKI is a CA with a server certificate for localhost/127.0.0.1, client
// certificates, and a second CA the switch does not trust.
type tlsPKI struct {
	dir                 string
	ca                  *testpki.CA
	caFile              string
	serverCert, srvKey  string
	pool                *x509.CertPool
	client, otherClient tls.Certificate // CN acq-one from ca; CN acq-one from another CA
	clientCert, cliKey  string          // acq-one, as files (issuer link client cert)
}

func newTLSPKI(t testing.TB) *tlsPKI {
	t.Helper()
	p := &tlsPKI{dir: t.TempDir(), ca: testpki.NewCA(t, "cardswitch test CA")}
	p.caFile, _ = testpki.WriteFiles(t, p.dir, "ca", p.ca.CertPEM(), nil)
	crt, key := p.ca.Issue(t, "localhost", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, false)
	p.serverCert, p.srvKey = testpki.WriteFiles(t, p.dir, "server", crt, key)
	p.pool = x509.NewCertPool()
	require.True(t, p.pool.AppendCertsFromPEM(p.ca.CertPEM()))
	p.client = p.clientCertFrom(t, p.ca, "acq-one")
	crt, key = p.ca.Issue(t, "acq-one", nil, nil, true)
	p.clientCert, p.cliKey = testpki.WriteFiles(t, p.dir, "client", crt, key)
	p.otherClient = p.clientCertFrom(t, testpki.NewCA(t, "someone else's CA"), "acq-one")
	return p
}

func (p *tlsPKI) clientCertFrom(t testing.TB, ca *testpki.CA, cn string) tls.Certificate {
	t.Helper()
	crt, key := ca.Issue(t, cn, nil, nil, true)
	pair, err := tls.X509KeyPair(crt, key)
	require.NoError(t, err)
	return pair
}

// listenYAML is a listen section with TLS; mutual adds client_ca_file.
func (p *tlsPKI) listenYAML(mutual bool) string {
	s := fmt.Sprintf("listen:\n  tls:\n    cert_file: %s\n    key_file: %s\n", p.serverCert, p.srvKey)
	if mutual {
		s += fmt.Sprintf("    client_ca_file: %s\n", p.caFile)
	}
	return s
}

// clientConfig trusts the test CA; certs are presented when given.
func (p *tlsPKI) clientConfig(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: p.pool, ServerName: "localhost", Certificates: certs, MinVersion: tls.VersionTLS12}
}

// dialTLS connects and completes the handshake; raw frames then go over it.
func dialTLS(t testing.TB, addr string, cfg *tls.Config) (*rawConn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{Conn: c, fr: iso.NewFrameReader(c, 65535)}, nil
}

// refused asserts the switch ends the connection without answering: a
// request written to it gets no response, only an error (EOF, reset or a
// TLS alert).
func refused(t testing.TB, c net.Conn, body []byte) {
	t.Helper()
	_ = iso.WriteFrame(c, body) // may already fail: the switch hung up
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := c.Read(make([]byte, 64))
	require.Error(t, err, "the switch answered %d bytes instead of closing", n)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "connection neither answered nor closed: %v", err)
}

func bankYAML(endpoint string) string {
	return "issuers:\n" + issuerYAML("bank", "5s", endpoint) + "routes:\n  - {bin: \"4\", issuer: bank}\n"
}

func TestTLSListener(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, p.listenYAML(false)+bankYAML(sim.Addr()), "bank")
	good := pack(t, auth("4111111111111111", 100, 1))

	t.Run("TLS client approved", func(t *testing.T) {
		c, err := dialTLS(t, sw.addr, p.clientConfig())
		require.NoError(t, err)
		c.write(t, good)
		assert.Equal(t, "00", str(t, c.read(t), 39))
	})
	t.Run("plain TCP client closed", func(t *testing.T) {
		refused(t, dialRaw(t, sw.addr), good)
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		cfg := p.clientConfig()
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		_, err := dialTLS(t, sw.addr, cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "protocol version")
	})
}

func TestMutualTLSListener(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, p.listenYAML(true)+bankYAML(sim.Addr()), "bank")
	good := pack(t, auth("4111111111111111", 100, 1))

	t.Run("client certificate accepted", func(t *testing.T) {
		c, err := dialTLS(t, sw.addr, p.clientConfig(p.client))
		require.NoError(t, err)
		c.write(t, good)
		assert.Equal(t, "00", str(t, c.read(t), 39))
	})
	// With TLS 1.3 the client's handshake ends before the server has
	// checked the client's certificate: the refusal shows on first read.
	t.Run("no client certificate refused", func(t *testing.T) {
		c, err := dialTLS(t, sw.addr, p.clientConfig())
		if err == nil {
			refused(t, c, good)
		} else {
			assert.ErrorContains(t, err, "certificate", "refused for the certificate, not anything else")
		}
	})
	t.Run("certificate from another CA refused", func(t *testing.T) {
		c, err := dialTLS(t, sw.addr, p.clientConfig(p.otherClient))
		if err == nil {
			refused(t, c, good)
		} else {
			assert.ErrorContains(t, err, "certificate", "refused for the certificate, not anything else")
		}
	})
}

// tlsProxy terminates TLS in front of an issuer simulator, as an issuer's
// TLS front end would. Failed handshakes are reported on failures.
type tlsProxy struct {
	ln       net.Listener
	failures chan error
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startTLSProxy(t testing.TB, p *tlsPKI, target string, requireClientCert bool) *tlsProxy {
	t.Helper()
	return startTLSProxyWith(t, p, target, requireClientCert, func(*tls.Config) {})
}

// startTLSProxyWith is startTLSProxy with its tls.Config changed by tweak.
func startTLSProxyWith(t testing.TB, p *tlsPKI, target string, requireClientCert bool, tweak func(*tls.Config)) *tlsProxy {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(p.serverCert, p.srvKey)
	require.NoError(t, err)
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if requireClientCert {
		cfg.ClientCAs, cfg.ClientAuth = p.pool, tls.RequireAndVerifyClientCert
	}
	tweak(cfg)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	require.NoError(t, err)
	px := &tlsProxy{ln: ln, failures: make(chan error, 100)}
	px.wg.Add(1)
	go px.accept(target)
	t.Cleanup(px.close)
	return px
}

func (px *tlsProxy) accept(target string) {
	defer px.wg.Done()
	for {
		c, err := px.ln.Accept()
		if err != nil {
			return
		}
		px.track(c)
		px.wg.Add(1)
		go func() {
			defer px.wg.Done()
			px.serve(c.(*tls.Conn), target)
		}()
	}
}

func (px *tlsProxy) track(c net.Conn) {
	px.mu.Lock()
	defer px.mu.Unlock()
	px.conns = append(px.conns, c)
}

func (px *tlsProxy) serve(c *tls.Conn, target string) {
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.HandshakeContext(ctx); err != nil {
		select {
		case px.failures <- err:
		default:
		}
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	px.track(up)
	defer up.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(up, c)
		_ = up.Close()
	}()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	<-done
}

func (px *tlsProxy) close() {
	_ = px.ln.Close()
	px.mu.Lock()
	for _, c := range px.conns {
		_ = c.Close()
	}
	px.mu.Unlock()
	px.wg.Wait()
}

func (px *tlsProxy) addr() string { return px.ln.Addr().String() }

func issuerTLSYAML(endpoint, tlsBlock string) string {
	return "issuers:\n" + issuerYAML("bank", "5s", endpoint) + tlsBlock + "routes:\n  - {bin: \"4\", issuer: bank}\n"
}

func TestIssuerLinkTLS(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})

	t.Run("server certificate verified", func(t *testing.T) {
		px := startTLSProxy(t, p, sim.Addr(), false)
		sw := startSwitch(t, issuerTLSYAML(px.addr(), fmt.Sprintf("    tls: {ca_file: %s, server_name: localhost}\n", p.caFile)), "bank")
		assert.Equal(t, "00", str(t, send(t, dial(t, sw.addr), auth("4111111111111111", 100, 1)), 39))
	})
	t.Run("client certificate presented", func(t *testing.T) {
		px := startTLSProxy(t, p, sim.Addr(), true)
		sw := startSwitch(t, issuerTLSYAML(px.addr(), fmt.Sprintf(
			"    tls: {ca_file: %s, server_name: localhost, cert_file: %s, key_file: %s}\n", p.caFile, p.clientCert, p.cliKey)), "bank")
		assert.Equal(t, "00", str(t, send(t, dial(t, sw.addr), auth("4111111111111111", 100, 1)), 39))
	})
	t.Run("wrong server name keeps the link down", func(t *testing.T) {
		px := startTLSProxy(t, p, sim.Addr(), false)
		sw := startSwitch(t, issuerTLSYAML(px.addr(), fmt.Sprintf("    tls: {ca_file: %s, server_name: bank.example}\n", p.caFile)))
		select {
		case err := <-px.failures:
			t.Logf("proxy saw the switch give up the handshake: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("the switch never tried to connect")
		}
		assert.Zero(t, sw.IssuerLinksUp("bank"))
		assert.Equal(t, "91", str(t, send(t, dial(t, sw.addr), auth("4111111111111111", 100, 1)), 39))
	})
}

// tls12With makes cfg an old TLS 1.2 peer offering only suite.
func tls12With(cfg *tls.Config, suite uint16) *tls.Config {
	cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, tls.VersionTLS12, []uint16{suite}
	return cfg
}

// The acquirer listener negotiates TLS 1.2 only with an AEAD suite: a
// client offering only ECDHE-ECDSA-AES128-SHA (CBC) fails the handshake,
// one offering AES-GCM is approved.
func TestTLSListenerRefusesCBC(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	sw := startSwitch(t, p.listenYAML(false)+bankYAML(sim.Addr()), "bank")

	_, err := dialTLS(t, sw.addr, tls12With(p.clientConfig(), tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA))
	require.Error(t, err, "a CBC-only TLS 1.2 client got a session")
	assert.Contains(t, err.Error(), "handshake failure")

	c, err := dialTLS(t, sw.addr, tls12With(p.clientConfig(), tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256))
	require.NoError(t, err)
	c.write(t, pack(t, auth("4111111111111111", 100, 1)))
	assert.Equal(t, "00", str(t, c.read(t), 39))
}

// An issuer link does not come up against a TLS 1.2 front end offering
// only CBC suites (its requests get 91), and does against AES-GCM.
func TestIssuerLinkRefusesCBC(t *testing.T) {
	p := newTLSPKI(t)
	sim := startSim(t, config.Simulator{})
	tlsBlock := fmt.Sprintf("    tls: {ca_file: %s, server_name: localhost}\n", p.caFile)

	t.Run("CBC only: link down", func(t *testing.T) {
		px := startTLSProxyWith(t, p, sim.Addr(), false, func(c *tls.Config) {
			tls12With(c, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA)
		})
		sw := startSwitch(t, issuerTLSYAML(px.addr(), tlsBlock))
		select {
		case err := <-px.failures:
			assert.Contains(t, err.Error(), "no cipher suite supported by both client and server")
		case <-time.After(10 * time.Second):
			t.Fatal("the switch never tried to connect")
		}
		assert.Zero(t, sw.IssuerLinksUp("bank"))
		assert.Equal(t, "91", str(t, send(t, dial(t, sw.addr), auth("4111111111111111", 100, 1)), 39))
	})
	t.Run("AES-GCM: link up", func(t *testing.T) {
		px := startTLSProxyWith(t, p, sim.Addr(), false, func(c *tls.Config) {
			tls12With(c, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
		})
		sw := startSwitch(t, issuerTLSYAML(px.addr(), tlsBlock), "bank")
		assert.Equal(t, "00", str(t, send(t, dial(t, sw.addr), auth("4111111111111111", 100, 1)), 39))
	})
}
