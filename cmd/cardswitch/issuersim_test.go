package main

import (
	"bufio"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/require"
)

// issuer-sim goes down on SIGUSR1 (its links closed, new ones too) and
// comes back up on SIGUSR2, on the same address.
func TestIssuerSimDownAndUpOnSignals(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	cmd := exec.Command(binary, "issuer-sim", "--listen", addr, "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	await := func(msg string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "issuer-sim exited before logging %q", msg)
				if strings.Contains(l, `"msg":"`+msg) {
					return
				}
			case <-deadline:
				t.Fatalf("no log line %q", msg)
			}
		}
	}
	echo := func() *acqclient.Client {
		t.Helper()
		c, err := acqclient.Dial(addr, 10*time.Second)
		require.NoError(t, err)
		m, err := acqclient.Request{MTI: "0800", STAN: 1, NetworkCode: iso.NetEcho}.Message()
		require.NoError(t, err)
		resp, err := c.Send(m)
		require.NoError(t, err)
		got, _ := resp.GetMTI()
		require.Equal(t, "0810", got)
		return c
	}
	await("issuer simulator listening")
	c := echo()
	require.NoError(t, cmd.Process.Signal(syscall.SIGUSR1))
	await("issuer simulator down")
	m, err := acqclient.Request{MTI: "0800", STAN: 2, NetworkCode: iso.NetEcho}.Message()
	require.NoError(t, err)
	_, err = c.Send(m)
	require.Error(t, err, "its link was closed")
	_ = c.Close()
	require.NoError(t, cmd.Process.Signal(syscall.SIGUSR2))
	await("issuer simulator up")
	_ = echo().Close()
}
