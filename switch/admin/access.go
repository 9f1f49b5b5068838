package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Access is who may use the listener. The zero value leaves the /admin/
// endpoints open to whoever passes the Host and Origin checks, which only
// a loopback listener accepts.
type Access struct {
	// Token, when set, is required as "Authorization: Bearer <token>", or
	// a status page session cookie got by signing in with it, by every
	// path but /metrics, /healthz, /readyz and the sign-in form. A
	// secret: never logged.
	Token string
	// Hosts are further names ("name", any port; or "name:port") accepted
	// in the Host header, lower case.
	Hosts []string
}

// ErrTokenRequired: a listener that is not on loopback cannot run without
// a token, at start or after a reload.
var ErrTokenRequired = errors.New("admin: the listener is not on a loopback address: admin.token_file is required")

// openPaths need no token: probes and scrapers carry none, and they
// reveal nothing that changes the switch; the status page's sign-in form,
// its style and sign-out come before a session exists (the Host and
// Origin checks still apply: a cross-site sign-in POST is refused).
var openPaths = map[string]bool{"/metrics": true, "/healthz": true, "/readyz": true,
	"/status/login": true, "/status/logout": true, "/status/style.css": true}

// statusJSON are the status page's JSON endpoints: refused with a JSON
// error, not a redirect to the sign-in form.
var statusJSON = map[string]bool{"/status.json": true, "/status/transactions": true, "/status/lookup": true}

// policy is an Access prepared for checking requests.
type policy struct {
	token   bool
	sum     [sha256.Size]byte // of the token: comparing digests hides its length
	exact   map[string]bool   // host:port, lower case
	anyPort map[string]bool   // host, lower case
	anyIP   bool              // listener on 0.0.0.0 or [::]: any IP literal with its port
	port    string
}

// self is what the listener accepts in the Host header without
// configuration: its own address, localhost and the loopback IPs when it
// listens on loopback (or everywhere), and any IP literal when it listens
// on every address, since a DNS rebinding attack needs a name.
type self struct {
	exact    []string
	port     string
	anyIP    bool
	loopback bool // only loopback clients can reach it
}

func selfOf(configured string, bound *net.TCPAddr) self {
	port := strconv.Itoa(bound.Port)
	ip, _ := netip.AddrFromSlice(bound.IP)
	ip = ip.Unmap()
	s := self{port: port, anyIP: ip.IsUnspecified(), loopback: ip.IsLoopback()}
	if ip.IsLoopback() || ip.IsUnspecified() {
		s.exact = append(s.exact, "localhost:"+port, "127.0.0.1:"+port, "[::1]:"+port)
	}
	if !ip.IsUnspecified() {
		s.exact = append(s.exact, strings.ToLower(net.JoinHostPort(ip.String(), port)))
	}
	if h, _, err := net.SplitHostPort(configured); err == nil && h != "" {
		s.exact = append(s.exact, strings.ToLower(net.JoinHostPort(h, port)))
	}
	return s
}

func (s self) policy(acc Access) (*policy, error) {
	if acc.Token == "" && !s.loopback {
		return nil, ErrTokenRequired
	}
	p := &policy{token: acc.Token != "", exact: map[string]bool{}, anyPort: map[string]bool{}, anyIP: s.anyIP, port: s.port}
	if p.token {
		p.sum = sha256.Sum256([]byte(acc.Token))
	}
	for _, h := range s.exact {
		p.exact[h] = true
	}
	for _, h := range acc.Hosts {
		h = strings.ToLower(h)
		if _, _, err := net.SplitHostPort(h); err == nil {
			p.exact[h] = true
		} else {
			p.anyPort[strings.Trim(h, "[]")] = true
		}
	}
	return p, nil
}

// hostOK reports whether a Host header names this listener. A Host
// without a port means port 80, as a browser sends it.
func (p *policy) hostOK(hostHeader string) bool {
	hp := strings.ToLower(hostHeader)
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		host, port = strings.Trim(hp, "[]"), "80"
		hp = net.JoinHostPort(host, port)
	}
	if p.exact[hp] || p.anyPort[host] {
		return true
	}
	_, isIP := netip.ParseAddr(host)
	return p.anyIP && isIP == nil && port == p.port
}

// sameOrigin reports whether a browser's request comes from a page the
// listener itself served: an Origin header, when present, must be
// http://<Host>, or https://<Host> behind a TLS proxy; Sec-Fetch-Site,
// when present, same-origin or none (typed by the user). Clients that are
// not browsers send neither.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin, ok := r.Header["Origin"]
	if !ok {
		return true
	}
	if len(origin) != 1 {
		return false
	}
	u, err := url.Parse(origin[0])
	if err != nil || u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return false
	}
	var defaultPort string
	switch u.Scheme {
	case "http":
		defaultPort = ":80"
	case "https":
		defaultPort = ":443"
	default:
		return false
	}
	// Ports are compared as written, minus the scheme's default: a page
	// on another port of the same host is another origin.
	norm := func(h string) string { return strings.TrimSuffix(strings.ToLower(h), defaultPort) }
	return u.Host != "" && norm(u.Host) == norm(r.Host)
}

// tokenOK compares the bearer token in constant time.
func (p *policy) tokenOK(r *http.Request) (present, ok bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return false, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return true, subtle.ConstantTimeCompare(sum[:], p.sum[:]) == 1
}
