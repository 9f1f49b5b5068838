package tlsconf

import "crypto/tls"

// cipherSuites are the TLS 1.2 suites offered and accepted on both sides:
// ECDHE key exchange (forward secrecy) with an AEAD cipher, AES-GCM or
// ChaCha20-Poly1305. Go's defaults also enable ECDHE with AES-CBC and
// HMAC-SHA1 (MAC-then-encrypt, with a history of padding-oracle and timing
// attacks such as Lucky Thirteen), which has no place on a link that
// carries PANs. TLS 1.3 suites are not configurable in Go; all
// are AEAD. A fresh slice per config: a tls.Config's fields are the
// caller's to change.
func cipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}
