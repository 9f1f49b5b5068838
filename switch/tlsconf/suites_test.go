package tlsconf_test

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/internal/testpki"
	"github.com/cardswitch/cardswitch/switch/tlsconf"
)

// cbcSuites are the TLS 1.2 suites without AEAD that Go still offers by
// default or on request: CBC with HMAC-SHA1 or SHA256, and RSA key exchange.
var cbcSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA,
}

// aeadSuites are the TLS 1.2 suites the switch offers.
var aeadSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// tls12Only limits cfg to TLS 1.2 with the given suites, as an old peer.
func tls12Only(cfg *tls.Config, suites ...uint16) *tls.Config {
	cfg = cfg.Clone()
	cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, tls.VersionTLS12, suites
	return cfg
}

// rsaServer writes an RSA server certificate from p's CA.
func rsaServer(t *testing.T, p pki) tlsconf.Server {
	c, k := p.ca.IssueRSA(t, "switch-rsa", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, false)
	cert, key := testpki.WriteFiles(t, filepath.Dir(p.caFile), "server-rsa", c, k)
	return tlsconf.Server{CertFile: cert, KeyFile: key}
}

// The acquirer listener: a TLS 1.2 client offering only CBC (or RSA key
// exchange) suites fails the handshake; one offering an AEAD suite with
// ECDHE gets it. TLS 1.3 is as Go has it.
func TestServerOffersOnlyAEAD(t *testing.T) {
	p := newPKI(t)
	servers := map[string]tlsconf.Server{"ECDSA": {CertFile: p.serverCert, KeyFile: p.serverKey}, "RSA": rsaServer(t, p)}
	for kind, srv := range servers {
		scfg, err := tlsconf.ServerConfig(srv)
		require.NoError(t, err)
		ccfg, err := tlsconf.ClientConfig(tlsconf.Client{CAFile: p.caFile}, "localhost:1")
		require.NoError(t, err)
		for _, suite := range cbcSuites {
			o := handshake(t, scfg, tls12Only(ccfg, suite))
			require.Error(t, o.serverErr, "%s server accepted %s", kind, tls.CipherSuiteName(suite))
			assert.Contains(t, o.serverErr.Error(), "no cipher suite supported by both client and server")
			require.Error(t, o.clientErr)
		}
		for _, suite := range aeadSuites {
			o := handshake(t, scfg, tls12Only(ccfg, suite))
			if (kind == "RSA") != (tls.CipherSuiteName(suite)[:len("TLS_ECDHE_RSA")] == "TLS_ECDHE_RSA") {
				require.Error(t, o.serverErr, "%s certificate cannot serve %s", kind, tls.CipherSuiteName(suite))
				continue
			}
			require.NoError(t, o.serverErr, "%s server, %s", kind, tls.CipherSuiteName(suite))
			require.NoError(t, o.clientErr)
			assert.Equal(t, tls.CipherSuiteName(suite), tls.CipherSuiteName(o.server.CipherSuite))
		}
		o := handshake(t, scfg, ccfg)
		require.NoError(t, o.serverErr)
		assert.Equal(t, uint16(tls.VersionTLS13), o.server.Version, "TLS 1.3 when both sides have it")
	}
}

// An issuer link: against a TLS 1.2 server that has only CBC suites the
// handshake fails; against one with AES-GCM it succeeds.
func TestClientOffersOnlyAEAD(t *testing.T) {
	p := newPKI(t)
	for _, srv := range []tlsconf.Server{{CertFile: p.serverCert, KeyFile: p.serverKey}, rsaServer(t, p)} {
		scfg, err := tlsconf.ServerConfig(srv)
		require.NoError(t, err)
		scfg.CipherSuites = nil // Go's defaults, CBC included: the issuer is not ours
		ccfg, err := tlsconf.ClientConfig(tlsconf.Client{CAFile: p.caFile}, "localhost:1")
		require.NoError(t, err)
		for _, suite := range cbcSuites {
			o := handshake(t, tls12Only(scfg, suite), ccfg)
			require.Error(t, o.clientErr, "link accepted %s", tls.CipherSuiteName(suite))
			require.Error(t, o.serverErr)
			assert.Contains(t, o.serverErr.Error(), "no cipher suite supported by both client and server")
		}
		o := handshake(t, tls12Only(scfg, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256), ccfg)
		require.NoError(t, o.clientErr)
		require.NoError(t, o.serverErr)
		assert.Equal(t, uint16(tls.VersionTLS12), o.server.Version)
	}
}

// Both configs list only ECDHE AEAD suites, whatever Go's defaults become.
func TestConfigsListOnlyAEAD(t *testing.T) {
	p := newPKI(t)
	scfg, err := tlsconf.ServerConfig(tlsconf.Server{CertFile: p.serverCert, KeyFile: p.serverKey})
	require.NoError(t, err)
	ccfg, err := tlsconf.ClientConfig(tlsconf.Client{}, "localhost:1")
	require.NoError(t, err)
	for _, cfg := range []*tls.Config{scfg, ccfg} {
		assert.ElementsMatch(t, aeadSuites, cfg.CipherSuites)
		assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	}
}
