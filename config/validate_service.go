package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/cardswitch/cardswitch/internal/keyfile"
)

func (v *validator) admin(raw rawAdmin) Admin {
	a := Admin{Address: raw.Address, TokenFile: raw.TokenFile}
	addrOK := true
	if raw.Address != "" {
		if err := checkHostPort(raw.Address, false); err != nil {
			v.add("admin.address", "%q: %v", raw.Address, err)
			addrOK = false
		}
	}
	if raw.TokenFile != "" {
		token, err := ReadAdminToken(raw.TokenFile)
		if err != nil {
			v.add("admin.token_file", "%v", err)
		}
		a.Token = token
	}
	if addrOK && raw.Address != "" && raw.TokenFile == "" && !isLoopbackAddress(raw.Address) {
		v.add("admin.address", "%q: not a loopback address and admin.token_file is not set: "+
			"anyone who reaches it could reload the configuration; set admin.token_file, or bind 127.0.0.1 or [::1]",
			raw.Address)
	}
	for i, h := range raw.Hosts {
		if err := checkAdminHost(h); err != nil {
			v.add(fmt.Sprintf("admin.hosts[%d]", i), "%q: %v", h, err)
			continue
		}
		a.Hosts = append(a.Hosts, strings.ToLower(h))
	}
	return a
}

// isLoopbackAddress reports whether host:port names a loopback IP
// (127.0.0.0/8 or ::1). An empty host, an unspecified address and any
// host name are not: a name can resolve anywhere, and localhost need not
// mean loopback on every host.
func isLoopbackAddress(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// checkAdminHost accepts a host name or IP, with an optional port, as a
// Host header carries it.
func checkAdminHost(h string) error {
	if h == "" || strings.ContainsFunc(h, func(r rune) bool { return r <= ' ' || r > '~' || strings.ContainsRune("/@?#", r) }) {
		return errors.New("want a host name or host:port, as in the Host header")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
			return errors.New("want a host name or host:port; write an IPv6 address in brackets")
		}
		return nil
	}
	if p, err := strconv.ParseUint(port, 10, 16); host == "" || err != nil || p == 0 {
		return errors.New("want host:port with a port 1..65535")
	}
	return nil
}

// ReadAdminToken reads an admin token file, as the switch and the CLIs
// that call its admin API do: its content without a trailing newline (LF
// or CRLF), at least MinAdminTokenLen visible ASCII characters, since it
// travels in an HTTP header. The error names the file and the rule, never
// the content.
func ReadAdminToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%q: cannot read: %w", path, err)
	}
	token := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	switch {
	case token == "":
		return "", fmt.Errorf("%q: is empty: it must hold the admin token", path)
	case strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }):
		return "", fmt.Errorf("%q: the token must be visible ASCII only (no spaces, control characters or further lines)", path)
	case len(token) < MinAdminTokenLen:
		return "", fmt.Errorf("%q: the token has %d characters: at least %d required", path, len(token), MinAdminTokenLen)
	}
	return token, nil
}

func (v *validator) journal(raw rawJournal) Journal {
	_, def, _ := ServiceDefaults()
	j := Journal{
		Path:            raw.Path,
		DuplicateWindow: v.duration("journal.duplicate_window", "", raw.DuplicateWindow, def.DuplicateWindow, true),
		Retention:       v.duration("journal.retention", "", raw.Retention, 0, false),
		Sync:            raw.Sync,
		IndexLagMax:     v.duration("journal.index_lag_max", "", raw.IndexLagMax, def.IndexLagMax, true),
		KeyFile:         raw.KeyFile,
		Postgres:        raw.Postgres,
		Spool:           raw.Spool,
	}
	switch {
	case j.Postgres != "" && j.Path != "":
		v.add("journal.postgres", "and journal.path are both set: the journal is either PostgreSQL or SQLite, "+
			"set one (journal.path: \"\" with journal.postgres)")
	case j.Postgres != "" && j.KeyFile == "":
		v.add("journal.postgres", "needs journal.key_file: the nodes seal the messages they store with the "+
			"same keys, which no node creates on its own")
	case j.Spool != "" && j.Postgres == "":
		v.add("journal.spool", "needs journal.postgres: the spool keeps a PostgreSQL journal's writes while "+
			"the database is unreachable (the SQLite journal is a local file already)")
	}
	v.keyFile(raw.KeyFile)
	switch j.Sync {
	case "":
		j.Sync = def.Sync
	case "normal", "full":
	default:
		v.add("journal.sync", "%q: want normal or full", raw.Sync)
	}
	if j.Retention > 0 && j.Retention < j.DuplicateWindow {
		v.add("journal.retention", "%s is shorter than duplicate_window %s: duplicates could not be detected after a restart",
			j.Retention, j.DuplicateWindow)
	}
	return j
}

// keyFile reports a set journal.key_file that cannot be read or does not
// hold keys in its format (keyfile.Rule), naming the file and the line.
func (v *validator) keyFile(path string) {
	if path == "" {
		return
	}
	if msg := unreadable(path); msg != "" {
		v.add("journal.key_file", "%q: %s", path, msg)
		return
	}
	if _, err := keyfile.Load(path); err != nil {
		var ke *keyfile.Error
		if errors.As(err, &ke) && ke.Line > 0 {
			v.add("journal.key_file", "%q: line %d: %s", path, ke.Line, ke.Rule)
			return
		}
		if errors.As(err, &ke) {
			v.add("journal.key_file", "%q: %s", path, ke.Rule)
			return
		}
		v.add("journal.key_file", "%q: %v", path, err)
	}
}

func (v *validator) reversals(raw rawReversals) Reversals {
	_, _, def := ServiceDefaults()
	r := Reversals{
		RetryMin: v.duration("reversals.retry_min", "", raw.RetryMin, def.RetryMin, true),
		RetryMax: v.duration("reversals.retry_max", "", raw.RetryMax, def.RetryMax, true),
		Rate:     def.Rate,
	}
	if raw.Rate != "" {
		n, err := strconv.ParseFloat(raw.Rate, 64)
		if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			v.add("reversals.rate", "%q: must be a positive number (reversals per second per issuer)", raw.Rate)
		} else {
			r.Rate = n
		}
	}
	if r.RetryMin > r.RetryMax {
		v.add("reversals", "retry_min %s is above retry_max %s", r.RetryMin, r.RetryMax)
	}
	return r
}

// memoryUnits are the suffixes memory_limit takes, as GOMEMLIMIT does.
var memoryUnits = []struct {
	suffix string
	shift  uint
}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}, {"", 0}}

// memoryLimit parses memory_limit: a byte count with an optional unit B,
// KiB, MiB, GiB or TiB ("1GiB", "768MiB"); 0 for no limit; "" the default.
func (v *validator) memoryLimit(s string) int64 {
	if s == "" {
		return DefaultMemoryLimit
	}
	for _, u := range memoryUnits {
		digits, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64>>u.shift {
			break
		}
		return n << u.shift
	}
	v.add("memory_limit", "%q: want a byte count with an optional unit B, KiB, MiB, GiB or TiB (e.g. 1GiB), or 0 for none", s)
	return DefaultMemoryLimit
}

// clusterNodeMax bounds cluster.node, which every row a node writes holds.
const clusterNodeMax = 64

func (v *validator) cluster(raw rawCluster) Cluster {
	c := Cluster{Node: raw.Node, Lease: v.duration("cluster.lease", "", raw.Lease, DefaultClusterLease, true)}
	if c.Node == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			v.add("cluster.node", "is not set and the host name cannot be read: set it")
		}
		c.Node = host
	}
	if len(c.Node) > clusterNodeMax || strings.ContainsFunc(c.Node, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		v.add("cluster.node", "%q: want 1..%d characters without spaces or control characters", c.Node, clusterNodeMax)
	}
	return c
}
