package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/internal/porttest"
	"github.com/stretchr/testify/require"
)

// binary is the cardswitch built once for the tests that need a real
// process (signals, exit codes, the README's commands).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cardswitch-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cardswitch")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building cardswitch: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `cardswitch serve`, its JSON log lines collected.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	raw  []string
	seen chan struct{} // gets a token per log line
	done chan error
}

func startServe(t *testing.T, args ...string) *proc {
	t.Helper()
	return startServeEnv(t, nil, args...)
}

func startServeEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startServeIn(t, "", env, args...)
}

// startServeIn is startServeEnv with dir as the working directory ("" the
// test's).
func startServeIn(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	return startProc(t, dir, env, append([]string{"serve", "--log-format", "json", "--log-level", "debug"}, args...)...)
}

// startProc runs the binary with args (a command that logs JSON lines on
// stderr) in dir with env added, and kills it when the test ends.
func startProc(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{seen: make(chan struct{}, 1024), done: make(chan error, 1)}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Dir = dir
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go p.collect(stderr)
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		p.done <- nil
		if t.Failed() {
			t.Logf("switch log:\n%s", strings.Join(p.lines(), "\n"))
		}
	})
	return p
}

func (p *proc) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var m map[string]any
		_ = json.Unmarshal(sc.Bytes(), &m)
		p.mu.Lock()
		p.logs = append(p.logs, m)
		p.raw = append(p.raw, sc.Text())
		p.mu.Unlock()
		select {
		case p.seen <- struct{}{}:
		default:
		}
	}
	p.done <- p.cmd.Wait()
}

func (p *proc) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.raw...)
}

// waitLog waits for the first log line with msg whose attributes include
// match, and returns it.
func (p *proc) waitLog(t *testing.T, msg string, match map[string]string) map[string]any {
	t.Helper()
	l, err := p.awaitLog(msg, match)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// awaitLog is waitLog that returns its failure: the process exited first,
// or the line did not come within 20 s.
func (p *proc) awaitLog(msg string, match map[string]string) (map[string]any, error) {
	return p.awaitLine(fmt.Sprintf("%q %v", msg, match), func(l map[string]any) bool {
		return l["msg"] == msg && matches(l, match)
	})
}

// waitLogAny waits for the first log line whose msg is one of msgs, and
// returns it.
func (p *proc) waitLogAny(t *testing.T, msgs ...string) map[string]any {
	t.Helper()
	l, err := p.awaitLine(fmt.Sprintf("%q", msgs), func(l map[string]any) bool {
		return slices.Contains(msgs, fmt.Sprint(l["msg"]))
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// awaitLine waits for the first log line ok accepts (what names it in the
// error): the process exited first, or the line did not come within 20 s.
func (p *proc) awaitLine(what string, ok func(map[string]any) bool) (map[string]any, error) {
	deadline := time.After(20 * time.Second)
	for i := 0; ; {
		p.mu.Lock()
		for ; i < len(p.logs); i++ {
			if l := p.logs[i]; l != nil && ok(l) {
				p.mu.Unlock()
				return l, nil
			}
		}
		p.mu.Unlock()
		select {
		case <-p.seen:
		case err := <-p.done:
			p.done <- err
			return nil, fmt.Errorf("switch exited (%v) before logging %s", err, what)
		case <-deadline:
			return nil, fmt.Errorf("no log line %s", what)
		}
	}
}

// logged reports whether any line the process wrote contains s.
func (p *proc) logged(s string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.raw {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// serveOnFreePorts runs serve on yaml with its 127.0.0.1 ports made
// reserved ones (freePorts) and returns the process once it listens, with
// that log line. For configs whose issuers point at the config's own
// simulators, which cannot take port 0.
func serveOnFreePorts(t *testing.T, env []string, yaml string) (*proc, map[string]any) {
	t.Helper()
	p := startServeEnv(t, env, "--config", writeFile(t, "cardswitch.yaml", freePorts(t, yaml)))
	return p, p.waitLog(t, "cardswitch listening", nil)
}

func matches(l map[string]any, match map[string]string) bool {
	for k, v := range match {
		if fmt.Sprint(l[k]) != v {
			return false
		}
	}
	return true
}

// freePorts rewrites every 127.0.0.1:PORT in a config to a port reserved
// for the test (porttest), so a shipped example can run next to anything
// else on the machine: the switch binds the port while the test holds it,
// and nothing else can take it in between.
func freePorts(t *testing.T, yaml string) string {
	t.Helper()
	ports := map[string]string{}
	return regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllStringFunc(yaml, func(addr string) string {
		if p, ok := ports[addr]; ok {
			return p
		}
		p := porttest.Addr(t)
		ports[addr] = p
		return p
	})
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}
