package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/cardswitch/cardswitch/replay"
)

// echoChildEnv makes the bench binary run as the echo server child.
const echoChildEnv = "CARDSWITCH_BENCH_ECHO"

// runEchoChild serves until its stdin closes (the parent exited or is done).
func runEchoChild() {
	e, err := replay.NewEchoServer("127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	fmt.Println(e.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = e.Close()
}

// echoChild is the echo server in a separate process, so that this
// process's CPU time is the generator's alone.
type echoChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

func startEchoChild() (*echoChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), echoChildEnv+"=1")
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
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("echo child: %w", err)
	}
	return &echoChild{cmd: cmd, stdin: stdin, addr: strings.TrimSpace(addr)}, nil
}

func (e *echoChild) stop() {
	_ = e.stdin.Close()
	_ = e.cmd.Wait()
}

// cpuTime is this process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
