package tlsconf_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/internal/testpki"
	"github.com/cardswitch/cardswitch/switch/tlsconf"
)

// writeExpired writes a self-signed certificate that expired an hour ago.
func writeExpired(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	notAfter := time.Now().Add(-time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "old"},
		NotBefore:    notAfter.Add(-24 * time.Hour),
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return testpki.WriteFiles(t, dir, "expired",
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

type files struct {
	dir, missing, empty, garbage           string
	cert, key, otherKey                    string
	expiredCert, expiredKey, expiredAt, ca string
}

func newFiles(t *testing.T) files {
	t.Helper()
	p := newPKI(t)
	dir := filepath.Dir(p.caFile)
	f := files{dir: dir, cert: p.serverCert, key: p.serverKey, otherKey: p.clientKey, ca: p.caFile,
		missing: filepath.Join(dir, "missing.pem"), empty: filepath.Join(dir, "empty.pem"), garbage: filepath.Join(dir, "garbage.pem")}
	require.NoError(t, os.WriteFile(f.empty, nil, 0o600))
	require.NoError(t, os.WriteFile(f.garbage, []byte("not pem at all\n"), 0o600))
	f.expiredCert, f.expiredKey = writeExpired(t, dir)
	b, err := os.ReadFile(f.expiredCert)
	require.NoError(t, err)
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	f.expiredAt = c.NotAfter.UTC().Format(time.RFC3339)
	return f
}

func TestServerConfigErrors(t *testing.T) {
	f := newFiles(t)
	tests := []struct {
		name  string
		in    tlsconf.Server
		field string
		want  string
	}{
		{"no cert", tlsconf.Server{KeyFile: f.key}, "cert_file",
			`tlsconf: cert_file: required`},
		{"no key", tlsconf.Server{CertFile: f.cert}, "key_file",
			`tlsconf: key_file: required`},
		{"missing cert", tlsconf.Server{CertFile: f.missing, KeyFile: f.key}, "cert_file",
			`tlsconf: cert_file "` + f.missing + `": cannot read: no such file or directory`},
		{"cert is a directory", tlsconf.Server{CertFile: f.dir, KeyFile: f.key}, "cert_file",
			`tlsconf: cert_file "` + f.dir + `": cannot read: is a directory`},
		{"empty cert", tlsconf.Server{CertFile: f.empty, KeyFile: f.key}, "cert_file",
			`tlsconf: cert_file "` + f.empty + `": no PEM certificate found`},
		{"key given as cert", tlsconf.Server{CertFile: f.key, KeyFile: f.key}, "cert_file",
			`tlsconf: cert_file "` + f.key + `": no PEM certificate found`},
		{"cert given as key", tlsconf.Server{CertFile: f.cert, KeyFile: f.cert}, "key_file",
			`tlsconf: key_file "` + f.cert + `": no PEM private key found`},
		{"key of another cert", tlsconf.Server{CertFile: f.cert, KeyFile: f.otherKey}, "key_file",
			`tlsconf: key_file "` + f.otherKey + `": does not go with cert_file "` + f.cert + `": tls: private key does not match public key`},
		{"expired cert", tlsconf.Server{CertFile: f.expiredCert, KeyFile: f.expiredKey}, "cert_file",
			`tlsconf: cert_file "` + f.expiredCert + `": certificate expired at ` + f.expiredAt},
		{"missing client CA", tlsconf.Server{CertFile: f.cert, KeyFile: f.key, ClientCAFile: f.missing}, "client_ca_file",
			`tlsconf: client_ca_file "` + f.missing + `": cannot read: no such file or directory`},
		{"client CA without certificates", tlsconf.Server{CertFile: f.cert, KeyFile: f.key, ClientCAFile: f.garbage}, "client_ca_file",
			`tlsconf: client_ca_file "` + f.garbage + `": no PEM certificate found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tlsconf.ServerConfig(tt.in)
			assert.Nil(t, cfg)
			require.EqualError(t, err, tt.want)
			var te *tlsconf.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.field, te.Field)
		})
	}
}

func TestClientConfigErrors(t *testing.T) {
	f := newFiles(t)
	tests := []struct {
		name     string
		in       tlsconf.Client
		endpoint string
		field    string
		want     string
	}{
		{"no server name", tlsconf.Client{}, "", "server_name",
			`tlsconf: server_name: required when the endpoint has no host`},
		{"no server name, port only", tlsconf.Client{}, ":9101", "server_name",
			`tlsconf: server_name: required when the endpoint has no host`},
		{"missing CA", tlsconf.Client{CAFile: f.missing}, "localhost:1", "ca_file",
			`tlsconf: ca_file "` + f.missing + `": cannot read: no such file or directory`},
		{"empty CA", tlsconf.Client{CAFile: f.empty}, "localhost:1", "ca_file",
			`tlsconf: ca_file "` + f.empty + `": no PEM certificate found`},
		{"cert without key", tlsconf.Client{CertFile: f.cert}, "localhost:1", "key_file",
			`tlsconf: key_file: required with cert_file`},
		{"key without cert", tlsconf.Client{KeyFile: f.key}, "localhost:1", "cert_file",
			`tlsconf: cert_file: required with key_file`},
		{"key of another cert", tlsconf.Client{CertFile: f.cert, KeyFile: f.otherKey}, "localhost:1", "key_file",
			`tlsconf: key_file "` + f.otherKey + `": does not go with cert_file "` + f.cert + `": tls: private key does not match public key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tlsconf.ClientConfig(tt.in, tt.endpoint)
			assert.Nil(t, cfg)
			require.EqualError(t, err, tt.want)
			var te *tlsconf.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.field, te.Field)
		})
	}
}

func TestClientConfigDefaults(t *testing.T) {
	f := newFiles(t)
	tests := []struct {
		name, endpoint, serverName, want string
	}{
		{"host and port", "issuer.example:9101", "", "issuer.example"},
		{"bare host", "issuer.example", "", "issuer.example"},
		{"IPv6 with port", "[::1]:9101", "", "::1"},
		{"bracketed IPv6", "[::1]", "", "::1"},
		{"explicit name wins", "10.0.0.1:9101", "issuer.example", "issuer.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tlsconf.ClientConfig(tlsconf.Client{ServerName: tt.serverName}, tt.endpoint)
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.ServerName)
			assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
			assert.Nil(t, cfg.RootCAs, "no ca_file: system roots")
			assert.Empty(t, cfg.Certificates)
		})
	}

	cfg, err := tlsconf.ClientConfig(tlsconf.Client{CAFile: f.ca, CertFile: f.cert, KeyFile: f.key}, "localhost:1")
	require.NoError(t, err)
	assert.NotNil(t, cfg.RootCAs)
	assert.Len(t, cfg.Certificates, 1)
}

func TestServerConfigMinVersion(t *testing.T) {
	f := newFiles(t)
	cfg, err := tlsconf.ServerConfig(tlsconf.Server{CertFile: f.cert, KeyFile: f.key})
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	assert.Nil(t, cfg.ClientCAs)
}
