package tlsconf

import (
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/cardswitch/cardswitch/config"
)

// Client is the TLS setup of the links to one issuer.
// As configured (issuers[].tls): CAFile "" uses the system roots,
// ServerName "" the endpoint's host; CertFile/KeyFile are optional.
type Client = config.ClientTLS

// ClientConfig builds the tls.Config for dialing one issuer endpoint:
// TLS 1.2 or later (1.2 with ECDHE AEAD suites only), the issuer verified against CAFile (or the system
// roots), ServerName defaulting to endpointHost, and the client
// certificate when set. endpointHost may be "host" or "host:port"; an IP
// address is verified against the certificate's IP SANs. Errors are *Error.
func ClientConfig(c Client, endpointHost string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: cipherSuites(), ServerName: c.ServerName}
	if cfg.ServerName == "" {
		cfg.ServerName = hostOnly(endpointHost)
	}
	if cfg.ServerName == "" {
		return nil, &Error{Field: "server_name", Err: errors.New("required when the endpoint has no host")}
	}
	if c.CAFile != "" {
		pool, err := loadPool("ca_file", c.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	switch {
	case c.CertFile != "" && c.KeyFile == "":
		return nil, &Error{Field: "key_file", Err: errors.New("required with cert_file")}
	case c.CertFile == "" && c.KeyFile != "":
		return nil, &Error{Field: "cert_file", Err: errors.New("required with key_file")}
	case c.CertFile != "":
		pair, err := loadKeyPair(c.CertFile, c.KeyFile, time.Now())
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// hostOnly strips a port, and the brackets of an IPv6 literal.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	if len(hostport) > 1 && hostport[0] == '[' && hostport[len(hostport)-1] == ']' {
		return hostport[1 : len(hostport)-1]
	}
	return hostport
}
