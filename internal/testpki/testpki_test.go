package testpki_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cardswitch/cardswitch/internal/testpki"
)

func TestIssuedCertificatesVerify(t *testing.T) {
	ca := testpki.NewCA(t, "Test Root")
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(ca.CertPEM()))

	tests := []struct {
		name   string
		client bool
		usage  x509.ExtKeyUsage
	}{
		{"server", false, x509.ExtKeyUsageServerAuth},
		{"client", true, x509.ExtKeyUsageClientAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM := ca.Issue(t, "switch", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, tt.client)
			pair, err := tls.X509KeyPair(certPEM, keyPEM)
			require.NoError(t, err)
			leaf := pair.Leaf
			assert.Equal(t, "switch", leaf.Subject.CommonName)
			assert.Equal(t, []string{"localhost"}, leaf.DNSNames)
			_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{tt.usage}})
			assert.NoError(t, err)
		})
	}
}

func TestOtherCADoesNotVerify(t *testing.T) {
	ca, other := testpki.NewCA(t, "A"), testpki.NewCA(t, "B")
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(other.CertPEM()))
	certPEM, _ := ca.Issue(t, "x", []string{"localhost"}, nil, false)
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: roots})
	assert.ErrorAs(t, err, new(x509.UnknownAuthorityError))
}

func TestWriteFiles(t *testing.T) {
	ca := testpki.NewCA(t, "Test Root")
	certPEM, keyPEM := ca.Issue(t, "switch", nil, nil, false)
	dir := t.TempDir()
	certFile, keyFile := testpki.WriteFiles(t, dir, "switch", certPEM, keyPEM)
	_, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	st, err := os.Stat(keyFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	caFile, none := testpki.WriteFiles(t, dir, "ca", ca.CertPEM(), nil)
	assert.Empty(t, none)
	b, err := os.ReadFile(caFile)
	require.NoError(t, err)
	assert.Equal(t, ca.CertPEM(), b)
}
