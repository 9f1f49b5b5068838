package config

import (
	"net/netip"
	"time"
)

// ServerTLS configures TLS on the acquirer listener. The files must exist
// and be readable when the config is loaded.
type ServerTLS struct {
	// CertFile is the PEM server certificate (chain). Required.
	CertFile string
	// KeyFile is the PEM private key of CertFile. Required.
	KeyFile string
	// ClientCAFile, when set, requires and verifies client certificates
	// against these PEM CAs (mutual TLS). Default "": no client certificates.
	ClientCAFile string
}

// ClientTLS configures TLS on the links to one issuer. The files must exist
// and be readable when the config is loaded.
type ClientTLS struct {
	// CAFile is the PEM CA bundle the issuer's certificate is verified
	// against. Default "": the system roots.
	CAFile string
	// ServerName is the name expected in the issuer's certificate. Default
	// "": the host of the endpoint being dialled.
	ServerName string
	// CertFile is a client certificate to present. Optional; set both or
	// neither of CertFile and KeyFile.
	CertFile string
	// KeyFile is the private key of CertFile.
	KeyFile string
}

// Cluster names this node among the switch nodes sharing a PostgreSQL
// journal (journal.postgres). Read at start.
type Cluster struct {
	// Node names this node in the rows it writes: unique per node; 1..64
	// characters, no spaces. Default: the host name.
	Node string
	// Lease is a node's heartbeat and its claim on the messages it owes:
	// it beats every Lease/3, and a node whose last beat is older than
	// Lease is dead: the live nodes claim the reversals it owes. Default
	// 15s; must be > 0.
	Lease time.Duration
}

// Admin configures the admin HTTP server (/metrics, /healthz, /readyz,
// /admin/routes, /admin/reload).
type Admin struct {
	// Address is the host:port to serve on. Default "": no admin server.
	// The embedded default config sets 127.0.0.1:8080. An address that is
	// not a loopback IP (0.0.0.0, [::], another IP, any host name) needs
	// TokenFile.
	Address string
	// TokenFile holds the bearer token every /admin/ endpoint then requires
	// (/metrics, /healthz and /readyz stay open). Default "": no token,
	// allowed on a loopback address only. Read at load, so at start and on
	// every reload.
	TokenFile string
	// Token is TokenFile's content without its trailing newline: at least
	// MinAdminTokenLen visible ASCII characters. A secret: never logged,
	// printed or diffed.
	Token string
	// Hosts are further names (or name:port) the listener answers to in
	// the Host header, e.g. the name a proxy or operators use; its own
	// address, and localhost on loopback, are always accepted. Default none.
	Hosts []string
}

// Journal configures the transaction journal: SQLite (Path) or
// PostgreSQL (Postgres), never both.
type Journal struct {
	// Path is the SQLite file. Default "": no journal, and with it no
	// reversal retries and no duplicate detection. The embedded default
	// config sets cardswitch.db.
	Path string
	// DuplicateWindow is how long a request is remembered: another with the
	// same acquirer, STAN, terminal, RRN and field 7 within it is answered
	// 94 (duplicate). Default 10m; must be > 0.
	DuplicateWindow time.Duration
	// Retention is how long entries are kept; older ones are deleted
	// hourly. Default 0: kept forever. Must be 0 or at least
	// DuplicateWindow, which is refilled from the journal at start.
	// Reversals still owed are never deleted; an acknowledged one is
	// deleted at once.
	Retention time.Duration
	// Sync is the durability policy: "normal" (default) writes each batch
	// of entries to the journal log before the answers go out, which
	// survives a crash of the process; "full" also fsyncs every write, which
	// survives power loss and costs an fsync per batch.
	Sync string
	// IndexLagMax is how far the SQLite journal's index may fall behind its
	// log (the age of the oldest entry not yet indexed) before the switch
	// says so: a warning in its log, at most every minute, beside the
	// cardswitch_journal_index_lag_seconds gauge. Answers never wait for
	// the index; past the bound the switch keeps answering, the entries
	// stay durable in the log (its segments are kept until indexed, so
	// disk is the bound), and cardswitch txn reads them there. Default 1m;
	// must be > 0. Read at start.
	IndexLagMax time.Duration
	// KeyFile holds the AES-256 keys that encrypt the messages the journal
	// stores (reversals and advices owed): one key per line, 64 hex digits
	// or base64 of 32 bytes each (or a file of exactly 32 raw bytes); the
	// first encrypts, all decrypt (rotation). Default "": the file
	// <Path>.key, created (mode 0600, one random key) when missing. Read
	// at start; a change takes a restart.
	KeyFile string
	// Postgres is the DSN of a PostgreSQL database the journal is kept in
	// instead of Path (several nodes can share it; see Cluster), e.g.
	// postgres://cardswitch@127.0.0.1:5432/cardswitch?sslmode=disable.
	// Default "": no PostgreSQL. Excludes Path; needs KeyFile (the nodes
	// seal their stored messages with the same keys). Its password is
	// never logged. Read at start.
	Postgres string
	// Spool is the local file a node on Postgres keeps its journal writes
	// in while the database is unreachable (answers then still go out,
	// each once its entry is fsynced there), replayed into the database
	// when it is back and at the next start. Default "":
	// cardswitch-<cluster.node>.spool in the working directory, created
	// only when needed. Read at start.
	Spool string
}

// Reversals configures how unacknowledged 0420 advices are retried: the
// first retry after RetryMin, doubling up to RetryMax, until an 0430 arrives.
type Reversals struct {
	// RetryMin is the first retry delay. Default 1s; must be > 0.
	RetryMin time.Duration
	// RetryMax caps the delay. Default 1m; must be >= RetryMin.
	RetryMax time.Duration
	// Rate caps the reversals sent to one issuer per second (first tries
	// and retries alike), with a burst of Rate rounded up: a mass timeout
	// must not turn into a storm of 0420s on an issuer that is already
	// slow. Default 100; must be > 0.
	Rate float64
}

// Acquirer is one acquirer allowed to connect. When Config.Acquirers is
// not empty, a connection must match one of them.
type Acquirer struct {
	// Name identifies the acquirer in logs and metrics. Required, unique.
	Name string
	// InstitutionID is the acquiring institution id (field 32) this acquirer
	// must send: 1..11 digits, quoted in YAML. Required, unique.
	InstitutionID string
	// AllowCIDRs are the source networks it may connect from. At least one
	// of AllowCIDRs and CertSubject is required. Default: none.
	AllowCIDRs []netip.Prefix
	// CertSubject is the subject common name of the client certificate that
	// identifies it; needs listen.tls.client_ca_file. Default "".
	CertSubject string
	// MaxConnections caps its open connections. Default 0: unlimited.
	MaxConnections int
	// MaxInFlight caps its requests waiting for an issuer, across all its
	// connections. Default 0: unlimited.
	MaxInFlight int
	// Rate limits its requests per second. Default 0: unlimited.
	Rate float64
	// Burst is the token bucket size for Rate. Default (and when 0):
	// max(1, Rate rounded up).
	Burst int
}
