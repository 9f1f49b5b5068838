package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	cfgfile "github.com/cardswitch/cardswitch/config"
	"github.com/cardswitch/cardswitch/internal/gctune"
	switchd "github.com/cardswitch/cardswitch/switch"
)

// Environment of the switch child.
const (
	envIssuer  = "CARDSWITCH_BENCH_ISSUER"  // the issuer's address
	envDir     = "CARDSWITCH_BENCH_DIR"     // where the journal goes
	envProfile = "CARDSWITCH_BENCH_PROFILE" // profile directory, "" for none
	envJournal = "CARDSWITCH_BENCH_JOURNAL" // sqlite, postgres or "false": no journal
	envConns   = "CARDSWITCH_BENCH_CONNS"   // the issuer's connections
	envSync    = "CARDSWITCH_BENCH_SYNC"    // journal.sync
)

// switchYAML is a production configuration: the journal on (in a temporary
// directory), the admin listener with /metrics on, everything else at the
// defaults but the per-source caps: every load connection comes from
// 127.0.0.1, and a sweep opens more of them at once than one production
// source would. It routes the generator's BINs (2..., 4..., 5...) to the
// issuer. The listener and the issuer speak --dialect's A and B.
const switchYAML = `listen:
  address: 127.0.0.1:0
  dialect: %s
  max_connections_per_ip: 10000
  max_pending_per_ip: 10000
admin:
  address: 127.0.0.1:0
%sissuers:
  - name: bench
    endpoints: [%s]
    connections: %d
    dialect: %s
routes:
  - {bin: "2", issuer: bench}
  - {bin: "4", issuer: bench}
  - {bin: "5", issuer: bench}
`

// runSwitchChild runs the switch until stdin closes. Commands, one per line:
//
//	mark        prints markLine's six process totals so far
//	prof-start NAME  starts the CPU profile and block/mutex sampling
//	prof-stop        writes cpu, allocs, block and mutex profiles to DIR/NAME
func runSwitchChild() error {
	journal, err := childJournalYAML()
	if err != nil {
		return err
	}
	conns, err := strconv.Atoi(cmp.Or(os.Getenv(envConns), "1"))
	if err != nil {
		return err
	}
	cfg, err := cfgfile.LoadBytes("bench.yaml", fmt.Appendf(nil, switchYAML, cmp.Or(os.Getenv(envAcqDialect), "iso87ascii"),
		journal, os.Getenv(envIssuer), conns, cmp.Or(os.Getenv(envIssDialect), "iso87ascii")))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	gctune.Apply(cfg.MemoryLimit) // as `cardswitch serve` does
	sw, err := switchd.New(cfg, switchd.WithLogger(log))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sw.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	err = sw.WaitIssuer(wctx, "bench", func(up int) bool { return up >= conns })
	wcancel()
	if err != nil {
		cancel()
		<-done
		return fmt.Errorf("switch issuer link never came up: %w", err)
	}
	fmt.Println(sw.Addr())
	p := &profiler{dir: os.Getenv(envProfile)}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Println(command(in.Text(), sw, p))
	}
	cancel()
	return <-done
}

func command(cmd string, sw *switchd.Switch, p *profiler) string {
	verb, arg, _ := strings.Cut(strings.TrimSpace(cmd), " ")
	switch verb {
	case "mark":
		st := sw.Stats()
		return markLine(st.Requests, st.JournalLag)
	case "prof-start":
		return errText(p.start(arg))
	case "prof-stop":
		return errText(p.stop())
	}
	return "unknown command"
}

func errText(err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

// profiler writes the switch's profiles for one phase.
type profiler struct {
	dir      string
	phaseDir string // dir/NAME of the phase being profiled
	cpu      *os.File
}

func (p *profiler) start(name string) error {
	if p.dir == "" {
		return nil
	}
	p.phaseDir = filepath.Join(p.dir, filepath.Base(name))
	if err := os.MkdirAll(p.phaseDir, 0o750); err != nil {
		return err
	}
	runtime.SetBlockProfileRate(10_000) // one event per 10µs blocked
	runtime.SetMutexProfileFraction(100)
	f, err := os.Create(filepath.Join(p.phaseDir, "cpu.pprof"))
	if err != nil {
		return err
	}
	p.cpu = f
	return pprof.StartCPUProfile(f)
}

func (p *profiler) stop() error {
	if p.cpu == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := p.cpu.Close()
	p.cpu = nil
	for _, name := range []string{"allocs", "block", "mutex"} {
		if werr := writeProfile(filepath.Join(p.phaseDir, name+".pprof"), name); err == nil {
			err = werr
		}
	}
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(0)
	return err
}

func writeProfile(path, name string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var w io.Writer = f
	if err := pprof.Lookup(name).WriteTo(w, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// markLine is a child's answer to "mark", read by mark: its CPU time (ns),
// mallocs, requests handled, read and write syscalls, voluntary context
// switches and journal lag, process totals so far.
func markLine(requests, lag int64) string {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	sys, waits := kernelCounts()
	return fmt.Sprintf("%d %d %d %d %d %d", int64(cpuTime()), ms.Mallocs, requests, sys, waits, lag)
}
