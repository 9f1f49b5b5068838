package tlsconf

import "fmt"

// Error is a problem with one TLS setting. Field is the configuration key
// (cert_file, key_file, client_ca_file, ca_file, server_name) so the caller
// can prefix its own section, e.g. "listen.tls.".
type Error struct {
	Field string // configuration key
	File  string // the file concerned, "" when the setting is missing
	Err   error  // what is wrong
}

func (e *Error) Error() string {
	if e.File == "" {
		return fmt.Sprintf("tlsconf: %s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("tlsconf: %s %q: %v", e.Field, e.File, e.Err)
}

// Unwrap returns the underlying problem.
func (e *Error) Unwrap() error { return e.Err }
