package main

import (
	"crypto/tls"
	"fmt"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/switch/tlsconf"
	"github.com/spf13/pflag"
)

// tlsFlags are the client TLS flags of the tools (send, replay): the same
// settings, and the same checks, as an issuer link's issuers[].tls.
type tlsFlags struct {
	ca, cert, key, serverName string
}

func (f *tlsFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&f.ca, "tls-ca", "", "connect over TLS, verifying the server against this CA file (PEM)")
	fl.StringVar(&f.cert, "tls-cert", "", "connect over TLS with this client certificate (PEM; with --tls-key)")
	fl.StringVar(&f.key, "tls-key", "", "the client certificate's private key (PEM)")
	fl.StringVar(&f.serverName, "tls-server-name", "", "name to verify the server certificate against (default: the target's host)")
}

// config returns the TLS settings for target, nil for plain TCP (no
// --tls-* flag given). Without --tls-ca the system roots verify the server.
func (f *tlsFlags) config(target string) (*tls.Config, error) {
	if f.ca == "" && f.cert == "" && f.key == "" && f.serverName == "" {
		return nil, nil
	}
	cfg, err := tlsconf.ClientConfig(config.ClientTLS{CAFile: f.ca, CertFile: f.cert, KeyFile: f.key,
		ServerName: f.serverName}, target)
	if err != nil {
		return nil, fmt.Errorf("--tls-*: %w", err)
	}
	return cfg, nil
}
