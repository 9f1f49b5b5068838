package config

import (
	"errors"
	"io/fs"
	"os"
)

func (v *validator) serverTLS(raw rawServerTLS, present bool) *ServerTLS {
	return v.serverTLSAt("listen.tls", raw, present)
}

// serverTLSAt validates the tls section at key (listen.tls, or a
// listeners[] entry's).
func (v *validator) serverTLSAt(key string, raw rawServerTLS, present bool) *ServerTLS {
	if !present {
		return nil
	}
	if raw.CertFile == "" {
		v.add(key+".cert_file", "required when %s is set", key)
	}
	if raw.KeyFile == "" {
		v.add(key+".key_file", "required when %s is set", key)
	}
	v.file(key+".cert_file", "", raw.CertFile)
	v.file(key+".key_file", "", raw.KeyFile)
	v.file(key+".client_ca_file", "", raw.ClientCAFile)
	return &ServerTLS{CertFile: raw.CertFile, KeyFile: raw.KeyFile, ClientCAFile: raw.ClientCAFile}
}

func (v *validator) clientTLS(where string, raw rawClientTLS, present bool) *ClientTLS {
	if !present {
		return nil
	}
	if (raw.CertFile == "") != (raw.KeyFile == "") {
		v.add(where, "tls: set both cert_file and key_file, or neither")
	}
	v.file(where, "tls.ca_file", raw.CAFile)
	v.file(where, "tls.cert_file", raw.CertFile)
	v.file(where, "tls.key_file", raw.KeyFile)
	return &ClientTLS{CAFile: raw.CAFile, ServerName: raw.ServerName, CertFile: raw.CertFile, KeyFile: raw.KeyFile}
}

// file reports a set path that cannot be read now, so that a bad
// certificate path fails at load (or reload) rather than at the first
// handshake. Paths are relative to the working directory, as the switch
// will open them.
func (v *validator) file(where, key, path string) {
	if path == "" {
		return
	}
	if msg := unreadable(path); msg != "" {
		v.add(where, "%s: %s", quoteKey(key, path), msg)
	}
}

// unreadable returns why path cannot be read as a file, or "".
func unreadable(path string) string {
	f, err := os.Open(path)
	if err == nil {
		var info fs.FileInfo
		info, err = f.Stat()
		f.Close()
		if err == nil && info.IsDir() {
			return "is a directory"
		}
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "not readable: permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "not readable: " + pe.Err.Error()
	}
	return "not readable: " + err.Error()
}
