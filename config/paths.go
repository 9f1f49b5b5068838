package config

import (
	"os"
	"path/filepath"
	"strings"
)

// resolvePaths makes the file paths a config file sets relative to the
// file's folder dir, so that a config means the same files whichever
// folder the process starts in. A path set by an environment variable is
// left as given: the variable comes from the shell, where a relative path
// means the working directory.
func resolvePaths(raw *rawConfig, dir string) {
	at := func(key string, p *string) {
		if *p != "" && !filepath.IsAbs(*p) && !fromEnv(key) {
			*p = filepath.Join(dir, *p)
		}
	}
	at("listen.tls.cert_file", &raw.Listen.TLS.CertFile)
	at("listen.tls.key_file", &raw.Listen.TLS.KeyFile)
	at("listen.tls.client_ca_file", &raw.Listen.TLS.ClientCAFile)
	for i := range raw.Issuers {
		tls := &raw.Issuers[i].TLS
		at("issuers.tls.ca_file", &tls.CAFile)
		at("issuers.tls.cert_file", &tls.CertFile)
		at("issuers.tls.key_file", &tls.KeyFile)
	}
	at("admin.token_file", &raw.Admin.TokenFile)
	at("journal.path", &raw.Journal.Path)
	at("journal.key_file", &raw.Journal.KeyFile)
	at("journal.spool", &raw.Journal.Spool)
	for i := range raw.Dialects {
		at("dialects.spec", &raw.Dialects[i].Spec)
	}
	for i := range raw.Listeners {
		tls := &raw.Listeners[i].TLS
		at("listeners.tls.cert_file", &tls.CertFile)
		at("listeners.tls.key_file", &tls.KeyFile)
		at("listeners.tls.client_ca_file", &tls.ClientCAFile)
	}
}

// EnvName is the environment variable that overrides key, e.g.
// CARDSWITCH_LISTEN_MAX_IN_FLIGHT for listen.max_in_flight.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// fromEnv reports whether an environment variable sets key (an empty
// variable is ignored, as the loader ignores it).
func fromEnv(key string) bool {
	for _, k := range envKeys {
		if k == key {
			return os.Getenv(EnvName(key)) != ""
		}
	}
	return false
}

// blameEnv names the environment variable instead of the key in a problem
// whose value came from one, so that the user looks in the environment,
// not in the file: `CARDSWITCH_LISTEN_MAX_IN_FLIGHT (listen.max_in_flight):
// "abc": ...`. ValidationError.Lines leaves the file name off those.
func blameEnv(problems []Problem) {
	for i, p := range problems {
		key, rest, _ := strings.Cut(p.Where, " ")
		if fromEnv(key) {
			problems[i].Where = EnvName(key) + " (" + key + ")"
			if rest != "" {
				problems[i].Where += " " + rest
			}
		}
	}
}

// isEnvProblem reports whether p was blamed on an environment variable.
func isEnvProblem(p Problem) bool { return strings.HasPrefix(p.Where, EnvPrefix+"_") }
