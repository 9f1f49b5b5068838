package pgtest

import (
	"fmt"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"

	"github.com/cardswitch/cardswitch/internal/porttest"
)

// Server is a PostgreSQL instance of a test's own (initdb in a temporary
// folder, a free port on 127.0.0.1), for tests that stop and start the
// database; it is stopped and removed when the test ends.
type Server struct {
	t    testing.TB
	bin  string // the folder of initdb, pg_ctl
	dir  string
	port int
	cred *syscall.Credential // the postgres user's, when running as root
}

// StartServer starts a Server from the binaries of Debian's postgresql
// (/usr/lib/postgresql/<version>/bin, else initdb on PATH). Without them
// the test skips, except under CI=true, where it fails. As root the
// server runs as the postgres user (PostgreSQL refuses root).
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := serverBinaries()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("PostgreSQL's initdb and pg_ctl not found under CI=true: .ci/run installs postgresql")
		}
		t.Skip("needs PostgreSQL's server binaries (initdb, pg_ctl): apt-get install postgresql")
	}
	s := &Server{t: t, bin: bin}
	dir, err := os.MkdirTemp("", "cardswitch-pg-") // not t.TempDir: the postgres user must reach it
	if err != nil {
		t.Fatal(err)
	}
	s.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		s.cred = postgresUser(t)
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	// Reserved for the whole test: the server is stopped and started again
	// on it, and a port merely free when looked at could be taken by
	// another test's listener before PostgreSQL binds it (it binds with
	// SO_REUSEADDR, which the reservation allows).
	s.port = porttest.Port(t)
	s.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "cardswitch", "--auth=trust", "-E", "UTF8", "--no-sync")
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// DSN is the server's database for user cardswitch (a superuser).
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://cardswitch@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the server (again) on its port and waits until it accepts
// connections.
func (s *Server) Start() {
	s.t.Helper()
	s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-l", filepath.Join(s.dir, "log"), "-w", "start",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.port, s.dir))
}

// Stop stops the server (fast: open connections are closed) and waits
// until it is down; stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	cmd := s.cmd("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "stop")
	_ = cmd.Run()
}

func (s *Server) run(name string, args ...string) {
	s.t.Helper()
	if out, err := s.cmd(name, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.t.Fatalf("%s: %v\n%s\n%s", name, err, out, log)
	}
}

func (s *Server) cmd(name string, args ...string) *osexec.Cmd {
	cmd := osexec.Command(filepath.Join(s.bin, name), args...) // #nosec G204 -- test helper
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// serverBinaries is the folder of the newest initdb found, "" for none.
func serverBinaries() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return versionOf(found[i]) < versionOf(found[j]) })
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1])
	}
	if p, err := osexec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func versionOf(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

func postgresUser(t testing.TB) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Skipf("running as root without a postgres user to run PostgreSQL as: %v", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}
