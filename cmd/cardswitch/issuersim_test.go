package main

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/cardswitch/cardswitch/acqclient"
	"github.com/cardswitch/cardswitch/iso"
	"github.com/stretchr/testify/require"
)

// issuer-sim goes down on SIGUSR1 (its links closed, new ones too) and
// comes back up on SIGUSR2, on the same address (the one it logged, from
// port 0).
func TestIssuerSimDownAndUpOnSignals(t *testing.T) {
	p := startProc(t, "", nil, "issuer-sim", "--listen", "127.0.0.1:0", "--log-format", "json")
	addr := fmt.Sprint(p.waitLog(t, "issuer simulator listening", nil)["addr"])
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
	c := echo()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGUSR1))
	p.waitLog(t, "issuer simulator down: connections closed until it is brought up", nil)
	m, err := acqclient.Request{MTI: "0800", STAN: 2, NetworkCode: iso.NetEcho}.Message()
	require.NoError(t, err)
	_, err = c.Send(m)
	require.Error(t, err, "its link was closed")
	_ = c.Close()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGUSR2))
	p.waitLog(t, "issuer simulator up", nil)
	_ = echo().Close()
}
