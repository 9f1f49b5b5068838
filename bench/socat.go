package main

import (
	"fmt"
	"net"
	"os/exec"
	"time"
)

// startSocat runs a plain byte relay to target, in the switch's position:
// `socat TCP-LISTEN:P,fork,reuseaddr,nodelay TCP:target,nodelay`. ok is
// false when socat is not installed.
func startSocat(target string) (addr string, stop func(), ok bool, err error) {
	path, lerr := exec.LookPath("socat")
	if lerr != nil {
		return "", nil, false, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, true, err
	}
	addr = ln.Addr().String()
	_ = ln.Close() // socat binds it; a race with another process is unlikely on loopback
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(path, "TCP-LISTEN:"+port+",bind=127.0.0.1,fork,reuseaddr,nodelay", "TCP:"+target+",nodelay")
	if err := cmd.Start(); err != nil {
		return "", nil, true, err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	for range 100 { // poll: socat has no readiness signal
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return addr, stop, true, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return "", nil, true, fmt.Errorf("socat did not start listening on %s", addr)
}
