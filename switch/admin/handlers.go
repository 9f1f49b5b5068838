package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

func (s *Server) routes(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	s.pageRoutes(mux) // the status page: GET /status and its files
	// Method-qualified patterns make the mux answer 405 with an Allow
	// header for other methods.
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /admin/routes", s.adminRoutes)
	mux.HandleFunc("POST /admin/reload", s.adminReload)
	mux.HandleFunc("GET /admin/simulators", s.adminSimulators)
	mux.HandleFunc("POST /admin/simulators/{name}/down", s.simulatorState(true))
	mux.HandleFunc("POST /admin/simulators/{name}/up", s.simulatorState(false))
	s.statusRoutes(mux)
	return mux
}

// adminSimulators lists the in-process simulators: [] when none runs.
func (s *Server) adminSimulators(w http.ResponseWriter, _ *http.Request) {
	sims := s.sims.Load()
	if sims == nil {
		s.writeJSON(w, http.StatusOK, []struct{}{})
		return
	}
	s.writeJSON(w, http.StatusOK, (*sims).SimulatorStates())
}

// adminError is a JSON error body.
type adminError struct {
	Error string `json:"error"`
}

// simulatorState takes the simulator named in the path down or up.
func (s *Server) simulatorState(down bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		var (
			state any
			found bool
		)
		if sims := s.sims.Load(); sims != nil {
			state, found = (*sims).SetSimulatorDown(name, down)
		}
		if !found {
			s.writeJSON(w, http.StatusNotFound, adminError{Error: fmt.Sprintf(
				"no simulator named %q runs in this process (see GET /admin/simulators)", name)})
			return
		}
		s.log.Info("admin: simulator state set", "simulator", name, "down", down)
		s.writeJSON(w, http.StatusOK, state)
	}
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	ok, why := s.b.Ready()
	if !ok {
		if why == "" {
			why = "not ready"
		}
		writeText(w, http.StatusServiceUnavailable, why)
		return
	}
	writeText(w, http.StatusOK, "ready")
}

func (s *Server) adminRoutes(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, s.b.Routes())
}

// guard answers before any handler: 421 to a Host that is not this
// listener's (DNS rebinding: a page on a name the attacker controls that
// now resolves to this listener), 403 to a browser request from another
// site's page (a cross-site POST needs no CORS preflight), then, with a
// token configured, 401 without it on every path but the open ones.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := s.policy.Load()
		switch {
		case !p.hostOK(r.Host):
			s.log.Debug("admin: request for another host refused", "host", r.Host, "path", r.URL.Path)
			writeText(w, http.StatusMisdirectedRequest, fmt.Sprintf("admin: Host %q is not this listener's address; "+
				"use its address, or add the name to admin.hosts", r.Host))
		case !sameOrigin(r):
			s.log.Debug("admin: cross-origin request refused", "origin", r.Header.Get("Origin"), "path", r.URL.Path)
			writeText(w, http.StatusForbidden, "admin: cross-origin request refused: "+
				"the Origin or Sec-Fetch-Site header shows it comes from another site's page")
		case p.token && !openPaths[r.URL.Path]:
			present, ok := p.tokenOK(r)
			if ok || s.sessions.valid(r, p.sum, time.Now()) {
				next.ServeHTTP(w, r)
				return
			}
			s.unauthorized(w, r, present)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// unauthorized refuses a request without the token or a session: a
// browser loading the status page is sent to sign in, the status page's
// JSON gets a JSON error, anything else the bearer challenge.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, present bool) {
	path := r.URL.Path
	if statusJSON[path] {
		s.writeJSON(w, http.StatusUnauthorized, adminError{Error: "this endpoint needs the admin token " +
			"(admin.token_file): Authorization: Bearer <token>, or sign in at /status/login"})
		return
	}
	if (path == "/status" || strings.HasPrefix(path, "/status/")) && r.Method == http.MethodGet {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/status/login", http.StatusSeeOther)
		return
	}
	challenge := `Bearer realm="cardswitch admin"`
	if present {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeText(w, http.StatusUnauthorized, "admin: this endpoint needs the admin token "+
		"(admin.token_file): Authorization: Bearer <token>")
}

// reloadFailure is the 422 body.
type reloadFailure struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
}

func (s *Server) adminReload(w http.ResponseWriter, r *http.Request) {
	if !s.reloadMu.TryLock() {
		s.writeJSON(w, http.StatusConflict, reloadFailure{Error: "a reload is already in progress"})
		return
	}
	defer s.reloadMu.Unlock()

	ctx, cancel := context.WithTimeout(r.Context(), s.limits.reloadTimeout)
	defer cancel()
	res, err := s.b.Reload(ctx)
	if err != nil {
		body := reloadFailure{Error: err.Error()}
		var l liner
		if errors.As(err, &l) {
			body.Problems = l.Lines()
		}
		s.log.Warn("admin: config reload failed", "err", err, "problems", len(body.Problems))
		s.writeJSON(w, http.StatusUnprocessableEntity, body)
		return
	}
	s.log.Info("admin: config reloaded")
	s.writeJSON(w, http.StatusOK, res)
}

// writeJSON marshals before writing so that a value that cannot be
// marshaled gives a clean 500 instead of a truncated 200.
func (s *Server) writeJSON(w http.ResponseWriter, code int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // diffs contain "->": keep them readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		s.log.Error("admin: cannot marshal response", "err", err)
		writeText(w, http.StatusInternalServerError, "internal error: response not marshalable")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(msg))
}
