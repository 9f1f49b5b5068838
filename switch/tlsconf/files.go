package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

var (
	errRequired = errors.New("required")
	errNoCert   = errors.New("no PEM certificate found")
	errNoKey    = errors.New("no PEM private key found")
)

// readPEM reads a file; the error names the key and the file but not the
// path twice (a PathError already carries it).
func readPEM(field, file string) ([]byte, error) {
	if file == "" {
		return nil, &Error{Field: field, Err: errRequired}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{Field: field, File: file, Err: fmt.Errorf("cannot read: %w", err)}
	}
	return b, nil
}

// loadPool reads a PEM bundle of CA certificates.
func loadPool(field, file string) (*x509.CertPool, error) {
	b, err := readPEM(field, file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, &Error{Field: field, File: file, Err: errNoCert}
	}
	return pool, nil
}

// loadKeyPair reads a certificate chain and its key, and refuses a
// certificate that is not valid now: better to fail at start than at
// every handshake.
func loadKeyPair(certFile, keyFile string, now time.Time) (tls.Certificate, error) {
	certPEM, err := readPEM("cert_file", certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readPEM("key_file", keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	if !hasBlock(certPEM, "CERTIFICATE") {
		return tls.Certificate{}, &Error{Field: "cert_file", File: certFile, Err: errNoCert}
	}
	if !hasBlock(keyPEM, "PRIVATE KEY") {
		return tls.Certificate{}, &Error{Field: "key_file", File: keyFile, Err: errNoKey}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, &Error{Field: "key_file", File: keyFile,
			Err: fmt.Errorf("does not go with cert_file %q: %w", certFile, err)}
	}
	if err := checkValidity(pair.Leaf, now); err != nil {
		return tls.Certificate{}, &Error{Field: "cert_file", File: certFile, Err: err}
	}
	return pair, nil
}

// hasBlock reports whether data holds a PEM block whose type ends with
// suffix ("PRIVATE KEY" matches EC, RSA and PKCS #8 keys).
func hasBlock(data []byte, suffix string) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if len(b.Type) >= len(suffix) && b.Type[len(b.Type)-len(suffix):] == suffix {
			return true
		}
	}
}

func checkValidity(leaf *x509.Certificate, now time.Time) error {
	if leaf == nil {
		return nil
	}
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("certificate not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}
