package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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
	p := &proc{seen: make(chan struct{}, 1024), done: make(chan error, 1)}
	p.cmd = exec.Command(binary, append([]string{"serve", "--log-format", "json", "--log-level", "debug"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
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
	deadline := time.After(20 * time.Second)
	for i := 0; ; {
		p.mu.Lock()
		for ; i < len(p.logs); i++ {
			if l := p.logs[i]; l != nil && l["msg"] == msg && matches(l, match) {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		select {
		case <-p.seen:
		case err := <-p.done:
			p.done <- err
			t.Fatalf("switch exited (%v) before logging %q", err, msg)
		case <-deadline:
			t.Fatalf("no log line %q %v", msg, match)
		}
	}
}

func matches(l map[string]any, match map[string]string) bool {
	for k, v := range match {
		if fmt.Sprint(l[k]) != v {
			return false
		}
	}
	return true
}

// freePorts rewrites every 127.0.0.1:PORT in a config to a free port, so
// a shipped example can run next to anything else on the machine.
func freePorts(t *testing.T, yaml string) string {
	t.Helper()
	ports := map[string]string{}
	return regexp.MustCompile(`127\.0\.0\.1:\d+`).ReplaceAllStringFunc(yaml, func(addr string) string {
		if p, ok := ports[addr]; ok {
			return p
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		p := ln.Addr().String()
		require.NoError(t, ln.Close())
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
