package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cardswitch/cardswitch/switch/admin/status"
)

// A browser cannot send a bearer token with a page load, so the status
// page signs in once with the token (POST /status/login) and gets a
// session cookie. The cookie holds a random session id, not the token:
// it is worthless once the session ends (logout, expiry, a new token, a
// restart), and the token never sits in the browser's cookie store.
const (
	sessionCookie = "cardswitch_admin"
	// sessionTTL is how long a sign-in lasts: a night's on-call shift.
	sessionTTL = 12 * time.Hour
	// maxSessions bounds the sessions kept; past it the oldest is
	// dropped, so that sign-ins cannot grow memory without bound.
	maxSessions = 1024
	// loginRate and loginBurst bound sign-in attempts per client address
	// against token guessing; loginGlobal bounds them all together, so
	// that many addresses cannot add up to a fast guess.
	loginRate   = 5
	loginBurst  = 5
	loginGlobal = 50
	// maxLoginClients bounds the per-address limiters kept; past it they
	// are forgotten and start afresh (the global limit still holds).
	maxLoginClients = 4096
	// maxLoginBody bounds the sign-in form: one token field.
	maxLoginBody = 4 << 10
)

// session is one signed-in browser.
type session struct {
	expires time.Time
	token   [sha256.Size]byte // the token's digest at sign-in: a new token ends the session
}

// sessions are the signed-in browsers, by the digest of their cookie
// value (a dump of the map does not give usable cookies).
type sessions struct {
	mu      sync.Mutex
	m       map[[sha256.Size]byte]session
	clients map[string]*rate.Limiter
	all     *rate.Limiter
}

func newSessions() *sessions {
	return &sessions{m: map[[sha256.Size]byte]session{}, clients: map[string]*rate.Limiter{},
		all: rate.NewLimiter(loginGlobal, loginGlobal)}
}

// create starts a session for the token whose digest is token and
// returns the cookie value.
func (ss *sessions) create(token [sha256.Size]byte, now time.Time) string {
	var id [32]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	value := hex.EncodeToString(id[:])
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.dropOldest(now)
	}
	ss.m[sha256.Sum256([]byte(value))] = session{expires: now.Add(sessionTTL), token: token}
	return value
}

// dropOldest removes expired sessions, or the one closest to expiry.
func (ss *sessions) dropOldest(now time.Time) {
	var oldest [sha256.Size]byte
	first := true
	for k, s := range ss.m {
		if now.After(s.expires) {
			delete(ss.m, k)
			continue
		}
		if first || s.expires.Before(ss.m[oldest].expires) {
			oldest, first = k, false
		}
	}
	if len(ss.m) >= maxSessions {
		delete(ss.m, oldest)
	}
}

// valid reports whether r carries the cookie of a live session made under
// the token whose digest is token.
func (ss *sessions) valid(r *http.Request, token [sha256.Size]byte, now time.Time) bool {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return false
	}
	key := sha256.Sum256([]byte(c.Value))
	ss.mu.Lock()
	s, ok := ss.m[key]
	if ok && now.After(s.expires) {
		delete(ss.m, key)
		ok = false
	}
	ss.mu.Unlock()
	return ok && subtle.ConstantTimeCompare(s.token[:], token[:]) == 1
}

// end forgets r's session, if any.
func (ss *sessions) end(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		ss.mu.Lock()
		delete(ss.m, sha256.Sum256([]byte(c.Value)))
		ss.mu.Unlock()
	}
}

// allow takes one sign-in attempt from r's address.
func (ss *sessions) allow(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ss.mu.Lock()
	l, ok := ss.clients[host]
	if !ok {
		if len(ss.clients) >= maxLoginClients {
			clear(ss.clients)
		}
		l = rate.NewLimiter(loginRate, loginBurst)
		ss.clients[host] = l
	}
	ss.mu.Unlock()
	return l.Allow() && ss.all.Allow()
}

// sessionCookieFor is the cookie that carries value (empty: the one that
// clears it).
func sessionCookieFor(r *http.Request, value string) *http.Cookie {
	c := &http.Cookie{Name: sessionCookie, Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionTTL / time.Second)}
	if value == "" {
		c.MaxAge = -1
	}
	return c
}

// loginForm serves the sign-in form (GET /status/login).
func (s *Server) loginForm(w http.ResponseWriter, _ *http.Request) {
	s.writeLogin(w, http.StatusOK, "")
}

// writeLogin writes the embedded sign-in form, with msg in place of its
// <!--message--> marker.
func (s *Server) writeLogin(w http.ResponseWriter, code int, msg string) {
	page, err := fs.ReadFile(status.Files, "login.html")
	if err != nil {
		writeText(w, http.StatusNotFound, "admin: no sign-in form in this build")
		return
	}
	if msg != "" {
		page = []byte(strings.Replace(string(page), "<!--message-->",
			`<p class="error" role="alert">`+msg+`</p>`, 1))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
		"script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	_, _ = w.Write(page)
}

// login checks the token from the sign-in form: right, a session cookie
// and 303 to the page; wrong, 401 and the form again. Without a token
// configured there is nothing to check: 303 to the page.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.sessions.allow(r) {
		w.Header().Set("Retry-After", "1")
		writeText(w, http.StatusTooManyRequests, "admin: too many sign-in attempts; wait a second")
		return
	}
	p := s.policy.Load()
	if !p.token {
		http.Redirect(w, r, "/status", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	sum := sha256.Sum256([]byte(strings.TrimSpace(r.PostFormValue("token"))))
	if subtle.ConstantTimeCompare(sum[:], p.sum[:]) != 1 {
		s.log.Info("admin: status page sign-in refused: wrong token", "remote", r.RemoteAddr)
		s.writeLogin(w, http.StatusUnauthorized, "wrong token")
		return
	}
	http.SetCookie(w, sessionCookieFor(r, s.sessions.create(p.sum, time.Now())))
	s.log.Info("admin: status page signed in", "remote", r.RemoteAddr)
	http.Redirect(w, r, "/status", http.StatusSeeOther)
}

// logout ends the session and clears the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.sessions.end(r)
	http.SetCookie(w, sessionCookieFor(r, ""))
	http.Redirect(w, r, "/status/login", http.StatusSeeOther)
}
