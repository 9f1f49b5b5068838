package admin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Server is the admin HTTP listener. Create it with New, run Serve in a
// goroutine, stop it with Close.
type Server struct {
	ln       net.Listener
	srv      *http.Server
	b        Backend
	log      *slog.Logger
	limits   limits
	reloadMu sync.Mutex // held during a reload: one at a time
	self     self
	policy   atomic.Pointer[policy] // swapped by SetAccess while requests run
	sims     atomic.Pointer[Simulators]
	status   atomic.Pointer[Status]
	sessions *sessions // the status page's signed-in browsers
}

// New binds addr (port 0 picks a free port) and prepares the handlers.
// acc says who may use them; a listener that is not on loopback needs a
// token (ErrTokenRequired). metrics serves GET /metrics; nil leaves
// /metrics unrouted (404). A nil log discards log output.
func New(addr string, acc Access, b Backend, metrics http.Handler, log *slog.Logger) (*Server, error) {
	return newServer(addr, acc, b, metrics, log, defaultLimits)
}

func newServer(addr string, acc Access, b Backend, metrics http.Handler, log *slog.Logger, lim limits) (*Server, error) {
	if b == nil {
		return nil, errors.New("admin: nil Backend")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Addr: addr, Err: err}
	}
	s := &Server{ln: ln, b: b, log: log, limits: lim, self: selfOf(addr, ln.Addr().(*net.TCPAddr)),
		sessions: newSessions()}
	if err := s.SetAccess(acc); err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.srv = &http.Server{
		Handler:           s.guard(s.routes(metrics)),
		ReadHeaderTimeout: s.limits.readHeader,
		ReadTimeout:       s.limits.read,
		WriteTimeout:      s.limits.write,
		IdleTimeout:       s.limits.idle,
		MaxHeaderBytes:    s.limits.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// SetAccess replaces the token and extra host names, for requests that
// start from now on. It refuses to leave a listener that is not on
// loopback without a token (ErrTokenRequired), keeping the access in force.
func (s *Server) SetAccess(acc Access) error {
	p, err := s.self.policy(acc)
	if err != nil {
		return err
	}
	s.policy.Store(p)
	return nil
}

// SetSimulators gives the listener the in-process simulators to list
// and drive (/admin/simulators); nil leaves none.
func (s *Server) SetSimulators(sims Simulators) {
	if sims == nil {
		s.sims.Store(nil)
		return
	}
	s.sims.Store(&sims)
}

// Addr is the bound address, e.g. "127.0.0.1:41234".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Close; it then returns nil. Any other
// error means the listener failed.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops accepting, waits for requests in progress until ctx ends,
// then closes what remains and returns ctx's error. It may be called
// before Serve, or without Serve ever running.
func (s *Server) Close(ctx context.Context) error {
	// Shutdown first: it marks the server closed, so a running Serve
	// returns ErrServerClosed rather than an accept error.
	err := s.srv.Shutdown(ctx)
	// Shutdown only closes listeners Serve has seen; close ours in case
	// Serve never ran.
	lnErr := s.ln.Close()
	if err != nil {
		_ = s.srv.Close()
		return err
	}
	if lnErr != nil && !errors.Is(lnErr, net.ErrClosed) {
		return lnErr
	}
	return nil
}

// ListenError is returned by New when addr cannot be bound.
type ListenError struct {
	Addr string
	Err  error
}

func (e *ListenError) Error() string { return "admin: listen on " + e.Addr + ": " + e.Err.Error() }

// Unwrap returns the listen error.
func (e *ListenError) Unwrap() error { return e.Err }
