package tlsconf

import (
	"crypto/tls"
	"time"

	"github.com/cardswitch/cardswitch/config"
)

// Server is the TLS setup of the acquirer listener, as configured
// (listen.tls): certificate and key required; ClientCAFile set = mutual TLS.
type Server = config.ServerTLS

// ServerConfig builds the listener's tls.Config: TLS 1.2 or later (1.2
// with ECDHE AEAD suites only), the server certificate, and mandatory verified client certificates when
// ClientCAFile is set. Errors are *Error.
func ServerConfig(s Server) (*tls.Config, error) {
	pair, err := loadKeyPair(s.CertFile, s.KeyFile, time.Now())
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites(),
		Certificates: []tls.Certificate{pair},
	}
	if s.ClientCAFile != "" {
		pool, err := loadPool("client_ca_file", s.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// PeerSubject returns the subject common name of the peer's verified
// certificate, or "" when the peer presented none or it was not verified
// (only a verified chain may identify an acquirer).
func PeerSubject(cs tls.ConnectionState) string {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return ""
	}
	return cs.VerifiedChains[0][0].Subject.CommonName
}
