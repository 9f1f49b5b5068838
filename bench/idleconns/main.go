// Command idleconns measures what idle acquirer connections cost the
// switch: it starts a switch in this process, has a child process open
// -conns idle connections to it over loopback (so that the client side's
// memory is not counted), and reports heap in use, RSS and goroutines
// before and after, and bytes per connection.
//
//	go run ./bench/idleconns -conns 10000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/issuersim"
	switchd "github.com/cardswitch/cardswitch/switch"
)

func main() {
	conns := flag.Int("conns", 10000, "idle acquirer connections to open")
	child := flag.String("child", "", "internal: dial this address -conns times and hold the connections")
	flag.Parse()
	var err error
	if *child != "" {
		err = hold(*child, *conns)
	} else {
		err = measure(*conns)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idleconns:", err)
		os.Exit(1)
	}
}

// raiseNoFile lifts the soft open-files limit to need, or to the hard
// limit when that is lower (and says so).
func raiseNoFile(need uint64) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if rl.Cur >= need {
		return nil
	}
	rl.Cur = min(need, rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	if rl.Cur < need {
		return fmt.Errorf("RLIMIT_NOFILE hard limit %d is below the %d needed", rl.Max, need)
	}
	return nil
}

// sample is the process's memory at one moment, after a full GC.
type sample struct {
	heapInuse, sys, rss uint64
	goroutines          int
}

func take() sample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return sample{heapInuse: ms.HeapInuse, sys: ms.Sys, rss: vmRSS(), goroutines: runtime.NumGoroutine()}
}

// vmRSS reads VmRSS from /proc/self/status, in bytes (0 when unavailable).
func vmRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb uint64
		if n, _ := fmt.Sscanf(sc.Text(), "VmRSS: %d kB", &kb); n == 1 {
			return kb << 10
		}
	}
	return 0
}

func measure(n int) error {
	if err := raiseNoFile(uint64(n) + 1024); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sim, err := issuersim.New(config.Simulator{Name: "idle", Listen: "127.0.0.1:0"}, log)
	if err != nil {
		return err
	}
	go func() { _ = sim.Serve() }()
	defer sim.Close()
	// Every connection comes from 127.0.0.1 and never sends a frame: the
	// per-source caps are raised with the total one.
	yaml := fmt.Sprintf("listen: {address: 127.0.0.1:0, max_connections: %[1]d, max_connections_per_ip: %[1]d, "+
		"max_pending_per_ip: %[1]d, idle_timeout: 0s}\n", n+100) +
		"issuers:\n  - {name: bank, endpoints: [" + sim.Addr() + "]}\nroutes:\n  - {bin: \"4\", issuer: bank}\n"
	cfg, err := config.LoadBytes("idleconns.yaml", []byte(yaml))
	if err != nil {
		return err
	}
	sw, err := switchd.New(cfg, switchd.WithLogger(log), switchd.WithWatch(false))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := sw.WaitIssuer(wctx, "bank", func(up int) bool { return up > 0 }); err != nil {
		return err
	}

	before := take()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-child", sw.Addr().String(), "-conns", fmt.Sprint(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		return fmt.Errorf("client process: %w", err)
	} else if line != "ready\n" {
		return fmt.Errorf("client process: %q", line)
	}
	if err := waitAdmitted(sw, int64(n)); err != nil {
		return err
	}
	opened := time.Since(start)
	after := take()
	report(n, opened, before, after)
	return nil
}

// waitAdmitted polls until the switch has admitted n connections: the
// switch offers no event for it, and this is a measurement, not a test.
func waitAdmitted(sw *switchd.Switch, n int64) error {
	deadline := time.Now().Add(2 * time.Minute)
	for sw.Stats().Connections < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d connections admitted", sw.Stats().Connections, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func report(n int, opened time.Duration, before, after sample) {
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	per := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }
	fmt.Printf("idle acquirer connections: %d (opened and admitted in %v)\n", n, opened.Round(time.Millisecond))
	fmt.Printf("%-14s %12s %12s %14s\n", "", "before", "after", "per connection")
	fmt.Printf("%-14s %10.1f MiB %10.1f MiB %12.0f B\n", "heap in use", mib(before.heapInuse), mib(after.heapInuse), per(before.heapInuse, after.heapInuse))
	fmt.Printf("%-14s %10.1f MiB %10.1f MiB %12.0f B\n", "Go runtime sys", mib(before.sys), mib(after.sys), per(before.sys, after.sys))
	fmt.Printf("%-14s %10.1f MiB %10.1f MiB %12.0f B\n", "RSS", mib(before.rss), mib(after.rss), per(before.rss, after.rss))
	fmt.Printf("%-14s %12d %12d %14.1f\n", "goroutines", before.goroutines, after.goroutines,
		float64(after.goroutines-before.goroutines)/float64(n))
}

// hold dials addr n times, says "ready", and keeps the connections idle
// until stdin closes.
func hold(addr string, n int) error {
	if err := raiseNoFile(uint64(n) + 1024); err != nil {
		return err
	}
	conns := make([]io.Closer, 0, n)
	d := net.Dialer{Timeout: 10 * time.Second}
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			return fmt.Errorf("after %d connections: %w", len(conns), err)
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		_ = c.Close()
	}
	return nil
}
