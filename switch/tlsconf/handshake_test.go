package tlsconf_test

import (
	"crypto/tls"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/internal/testpki"
	"github.com/cardswitch/cardswitch/switch/tlsconf"
)

// pki is a switch CA with a server and a client certificate, and a second,
// unrelated CA with its own client certificate, all written to files.
type pki struct {
	caFile, otherCAFile       string
	serverCert, serverKey     string
	clientCert, clientKey     string
	strangerCert, strangerKey string
	ca, other                 *testpki.CA
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	p := pki{ca: testpki.NewCA(t, "Switch CA"), other: testpki.NewCA(t, "Other CA")}
	p.caFile, _ = testpki.WriteFiles(t, dir, "ca", p.ca.CertPEM(), nil)
	p.otherCAFile, _ = testpki.WriteFiles(t, dir, "other-ca", p.other.CertPEM(), nil)
	c, k := p.ca.Issue(t, "switch", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, false)
	p.serverCert, p.serverKey = testpki.WriteFiles(t, dir, "server", c, k)
	c, k = p.ca.Issue(t, "acq-1", nil, nil, true)
	p.clientCert, p.clientKey = testpki.WriteFiles(t, dir, "client", c, k)
	c, k = p.other.Issue(t, "acq-1", nil, nil, true)
	p.strangerCert, p.strangerKey = testpki.WriteFiles(t, dir, "stranger", c, k)
	return p
}

type outcome struct {
	clientErr, serverErr error
	server               tls.ConnectionState
}

// handshake connects a client to a server over loopback. After its
// handshake the server writes one byte that the client must read: with TLS
// 1.3 the client finishes its handshake before the server has checked the
// client certificate, so only that read shows a rejection on the client side.
func handshake(t *testing.T, scfg, ccfg *tls.Config) outcome {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()

	type result struct {
		err error
		cs  tls.ConnectionState
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer conn.Close()
		tc := tls.Server(conn, scfg)
		if err := tc.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		_, err = tc.Write([]byte{1})
		done <- result{err: err, cs: tc.ConnectionState()}
	}()

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	tc := tls.Client(conn, ccfg)
	cerr := tc.Handshake()
	if cerr == nil {
		_, cerr = io.ReadFull(tc, make([]byte, 1))
	}
	tc.Close()
	r := <-done
	return outcome{clientErr: cerr, serverErr: r.err, server: r.cs}
}

func TestServerOnlyTLS(t *testing.T) {
	p := newPKI(t)
	scfg, err := tlsconf.ServerConfig(tlsconf.Server{CertFile: p.serverCert, KeyFile: p.serverKey})
	require.NoError(t, err)
	assert.Equal(t, tls.NoClientCert, scfg.ClientAuth)

	for _, endpoint := range []string{"127.0.0.1:9101", "localhost:9101", "127.0.0.1"} {
		t.Run(endpoint, func(t *testing.T) {
			ccfg, err := tlsconf.ClientConfig(tlsconf.Client{CAFile: p.caFile}, endpoint)
			require.NoError(t, err)
			o := handshake(t, scfg, ccfg)
			require.NoError(t, o.clientErr)
			require.NoError(t, o.serverErr)
			assert.Equal(t, "", tlsconf.PeerSubject(o.server))
		})
	}
}

func TestMutualTLS(t *testing.T) {
	p := newPKI(t)
	scfg, err := tlsconf.ServerConfig(tlsconf.Server{CertFile: p.serverCert, KeyFile: p.serverKey, ClientCAFile: p.caFile})
	require.NoError(t, err)
	assert.Equal(t, tls.RequireAndVerifyClientCert, scfg.ClientAuth)

	ccfg, err := tlsconf.ClientConfig(tlsconf.Client{CAFile: p.caFile, CertFile: p.clientCert, KeyFile: p.clientKey}, "127.0.0.1:1")
	require.NoError(t, err)
	o := handshake(t, scfg, ccfg)
	require.NoError(t, o.clientErr)
	require.NoError(t, o.serverErr)
	assert.Equal(t, "acq-1", tlsconf.PeerSubject(o.server))
}

func TestHandshakeFailures(t *testing.T) {
	p := newPKI(t)
	mtls := tlsconf.Server{CertFile: p.serverCert, KeyFile: p.serverKey, ClientCAFile: p.caFile}
	plain := tlsconf.Server{CertFile: p.serverCert, KeyFile: p.serverKey}
	tests := []struct {
		name      string
		server    tlsconf.Server
		client    tlsconf.Client
		endpoint  string
		maxTLS    uint16 // 0: default
		force     bool   // send the client certificate even if the server did not ask for its CA
		serverErr string // substring; "" when the server sees no error of its own
		clientErr string
	}{
		{"mTLS without client certificate", mtls, tlsconf.Client{CAFile: p.caFile}, "localhost:1", 0, false,
			"client didn't provide a certificate", "certificate required"},
		{"mTLS with client certificate from another CA", mtls,
			tlsconf.Client{CAFile: p.caFile, CertFile: p.strangerCert, KeyFile: p.strangerKey}, "localhost:1", 0, true,
			"certificate signed by unknown authority", "unknown certificate authority"},
		{"client trusts another CA", plain, tlsconf.Client{CAFile: p.otherCAFile}, "localhost:1", 0, false,
			"bad certificate", "certificate signed by unknown authority"},
		{"wrong server name", plain, tlsconf.Client{CAFile: p.caFile, ServerName: "issuer.example"}, "localhost:1", 0, false,
			"bad certificate", "certificate is valid for localhost, not issuer.example"},
		{"wrong endpoint host", plain, tlsconf.Client{CAFile: p.caFile}, "127.0.0.2:1", 0, false,
			"bad certificate", "certificate is valid for 127.0.0.1, not 127.0.0.2"},
		{"TLS 1.1 refused", plain, tlsconf.Client{CAFile: p.caFile}, "localhost:1", tls.VersionTLS11, false,
			"client offered only unsupported versions", "protocol version not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scfg, err := tlsconf.ServerConfig(tt.server)
			require.NoError(t, err)
			ccfg, err := tlsconf.ClientConfig(tt.client, tt.endpoint)
			require.NoError(t, err)
			if tt.maxTLS != 0 {
				ccfg.MinVersion, ccfg.MaxVersion = tls.VersionTLS10, tt.maxTLS
			}
			if tt.force {
				// Go's client withholds a certificate the server's CA list
				// does not cover; a hostile client would not.
				cert := &ccfg.Certificates[0]
				ccfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
			}
			o := handshake(t, scfg, ccfg)
			require.Error(t, o.clientErr)
			assert.Contains(t, o.clientErr.Error(), tt.clientErr)
			require.Error(t, o.serverErr)
			assert.Contains(t, o.serverErr.Error(), tt.serverErr)
			assert.Equal(t, "", tlsconf.PeerSubject(o.server))
		})
	}
}
