package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// childEnv makes the bench binary run as one of its child processes: the
// lean issuer ("issuer"), the generator's echo target ("echo") or the
// switch ("switch"). Each target runs in its own process so that its CPU
// time and allocations are its own, as in production.
const childEnv = "CARDSWITCH_BENCH_CHILD"

// child is a process started from this binary. It prints its listen
// address on the first line of stdout, then answers one line per command
// written to its stdin; it exits when stdin closes.
type child struct {
	kind  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	addr  string
}

func startChild(kind string, env ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), childEnv+"="+kind), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{kind: kind, cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	if c.addr, err = c.line(); err != nil {
		c.stop()
		return nil, fmt.Errorf("%s child: %w", kind, err)
	}
	return c, nil
}

func (c *child) line() (string, error) {
	s, err := c.out.ReadString('\n')
	return strings.TrimSpace(s), err
}

// ask sends one command line and returns the child's one-line answer.
func (c *child) ask(cmd string) (string, error) {
	if _, err := fmt.Fprintln(c.stdin, cmd); err != nil {
		return "", err
	}
	return c.line()
}

func (c *child) stop() {
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}

// runChild is main for a child process.
func runChild(kind string) error {
	switch kind {
	case "echo", "issuer":
		return runEchoChild(kind == "issuer")
	case "switch":
		return runSwitchChild()
	case "relay":
		return runRelayChild()
	case "moov-issuer":
		return runMoovIssuerChild()
	}
	return fmt.Errorf("unknown child kind %q", kind)
}
