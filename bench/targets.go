package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"time"

	"github.com/cardswitch/cardswitch/routing"
	switchd "github.com/cardswitch/cardswitch/switch"
	"github.com/cardswitch/cardswitch/switch/issuersim"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startSim() (*issuersim.Sim, func(), error) {
	sim, err := issuersim.New(routing.Simulator{Name: "bench", Listen: "127.0.0.1:0"}, quiet)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = sim.Serve() }()
	return sim, func() { _ = sim.Close(); <-done }, nil
}

// switchYAML routes the generator's default BINs (4..., 5..., 2...) to the
// simulator; everything else is at the config defaults.
const switchYAML = `listen:
  address: 127.0.0.1:0
issuers:
  - name: bench
    endpoints: [%s]
routes:
  - {bin: "2", issuer: bench}
  - {bin: "4", issuer: bench}
  - {bin: "5", issuer: bench}
`

// startSwitch runs an in-process switch in front of simAddr and waits for
// its issuer link.
func startSwitch(simAddr string) (string, func(), error) {
	cfg, err := routing.LoadBytes("bench.yaml", fmt.Appendf(nil, switchYAML, simAddr))
	if err != nil {
		return "", nil, err
	}
	sw, err := switchd.New(cfg, switchd.WithLogger(quiet))
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sw.Run(ctx) }()
	stop := func() { cancel(); <-done }
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := sw.WaitIssuer(wctx, "bench", func(up int) bool { return up >= 1 }); err != nil {
		stop()
		return "", nil, fmt.Errorf("switch issuer link never came up: %w", err)
	}
	return sw.Addr().String(), stop, nil
}

// startSocat runs a socat relay to target; ok is false without socat.
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
	for i := 0; i < 100; i++ { // wait for the listener
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return addr, stop, true, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return "", nil, true, fmt.Errorf("socat did not start listening on %s", addr)
}
