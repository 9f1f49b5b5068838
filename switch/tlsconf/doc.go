// Package tlsconf builds crypto/tls configurations for the switch: the
// acquirer-facing server (optionally requiring client certificates) and the
// issuer-facing clients. Both require TLS 1.2 or later, and offer TLS 1.2
// only with ECDHE AEAD suites (AES-GCM, ChaCha20-Poly1305). Files are read
// when a configuration is built (the switch builds them at start and again
// on every reload, so that renewed certificates apply to new handshakes);
// errors name the configuration key and the file, and say what is wrong
// with it.
package tlsconf
