package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cardswitch/cardswitch/iso"
	"github.com/cardswitch/cardswitch/replay"
	"github.com/cardswitch/cardswitch/replay/trace"
)

// Result is one phase's outcome.
type Result struct {
	Name           string  `json:"name"`
	Target         string  `json:"target"`
	Mode           string  `json:"mode"`
	Rate           float64 `json:"rate,omitempty"`
	Answered       int64   `json:"answered"`
	Failures       int64   `json:"failures"` // timeouts + errors + validation failures
	ThroughputPerS float64 `json:"throughput_per_s"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	MaxMS          float64 `json:"max_ms"`
	// GeneratorCPUus is this process's CPU time per answered request; only
	// for the echo phase, where the target runs in another process.
	GeneratorCPUus float64 `json:"generator_cpu_us_per_request,omitempty"`
	// Middle is the cost of the process between generator and issuer:
	// the switch in switched phases, the relay in the Go relay's.
	Middle *Cost `json:"middle,omitempty"`
	warmup int64 // requests sent during the warmup
}

// Cost is the middle process's (the switch's, the Go relay's) CPU time
// and heap allocations during a phase (warmup included), per request it
// handled.
type Cost struct {
	Requests    int64   `json:"requests"`
	CPUusPerTx  float64 `json:"cpu_us_per_tx"`
	AllocsPerTx float64 `json:"allocs_per_tx"`
	// SyscallsPerTx counts the read and write system calls (sockets and
	// journal files; /proc/self/io syscr+syscw): batching shows here.
	SyscallsPerTx float64 `json:"syscalls_per_tx"`
	// WaitsPerTx counts the times a thread of the switch gave up its core
	// to wait (voluntary context switches: a goroutine hand-off that found
	// nothing else to run, an idle poller).
	WaitsPerTx float64 `json:"waits_per_tx"`
	// JournalLag is the switch's journal lag (entries answered, not yet
	// indexed) at the end of the phase: a lag that grows with the load
	// would make a phase look cheaper than it is and bill the next one.
	JournalLag int64 `json:"journal_lag_at_end"`
	// PostgresCPUusPerTx is the postgres processes' CPU time per request
	// (--journal postgres): the database's share, beside CPUusPerTx.
	PostgresCPUusPerTx float64 `json:"postgres_cpu_us_per_tx,omitempty"`
}

// Paths are the closed loop through each path, at one connection count:
// the main run's and each --sweep row's. Socat is nil without socat.
type Paths struct {
	Direct    Result  `json:"direct"`
	Socat     *Result `json:"socat,omitempty"`
	GoRelay   Result  `json:"go_relay"`
	Switched  Result  `json:"switched"`
	SwOverSoc float64 `json:"ratio_switched_socat,omitempty"`
	SwOverGo  float64 `json:"ratio_switched_go_relay"`
}

// setRatios derives the switched throughput's ratios to the relays'.
func (p *Paths) setRatios() {
	if p.Socat != nil {
		p.SwOverSoc = ratio(p.Switched.ThroughputPerS, p.Socat.ThroughputPerS)
	}
	p.SwOverGo = ratio(p.Switched.ThroughputPerS, p.GoRelay.ThroughputPerS)
}

// Results are all phases.
type Results struct {
	Duration string `json:"phase_duration"`
	Journal  bool   `json:"switch_journal"`
	// JournalKind is --journal (sqlite, postgres, false); Nodes --nodes.
	JournalKind string `json:"journal_kind"`
	Nodes       int    `json:"nodes"`
	Issuer      string `json:"issuer"`             // lean or moov
	IssConns    int    `json:"issuer_connections"` // the switch's links to it
	Dialects    string `json:"dialects"`           // --dialect: the acquirer's,the issuer's
	Echo        Result `json:"generator_echo"`
	Paths              // the closed loop at --connections
	RateDir     Result `json:"fixed_rate_direct"`   // of the median pair
	RateSw      Result `json:"fixed_rate_switched"` // of the median pair
	// RatePairs are the added p99s (switched minus direct, ms) of every
	// fixed-rate pair, in the order run.
	RatePairs []float64 `json:"fixed_rate_added_p99_ms_per_pair"`
	FixedRate float64   `json:"fixed_rate"`
	SwOverDir float64   `json:"ratio_switched_direct"`
	// Sweep is the closed loop at other connection counts (--sweep).
	Sweep []SweepRow `json:"sweep,omitempty"`
	// JournalPairs are --journal-pair's alternating pairs (journalpair.go).
	JournalPairs []JournalPair `json:"journal_pairs,omitempty"`
	// Sync is the journal's journal.sync (--sync).
	Sync string `json:"journal_sync"`
	// Failed lists every phase run that had failures (failed.go).
	Failed []Failed `json:"failed_phases,omitempty"`
}

type runner struct {
	ctx  context.Context
	c    config
	msgs []trace.Message // for the echo target
	// approved are msgs expecting 39=00: the issuer approves everything,
	// so any other answer is the switch's own (an in-flight cap reached, a
	// timeout) and counts as a failure. Without it an overloaded switch's
	// quick 91s would count as fast transactions.
	approved []trace.Message
	// failed collects every phase with failures; a pointer, so that the
	// sweep's copies of the runner add to the same list.
	failed *[]Failed
}

// closed runs the closed loop to target speaking d: the issuer's dialect
// straight to the issuer, the acquirer's to the switch.
// more are further targets (the other switch nodes) the connections are
// spread over.
func (r *runner) closed(name, target string, d iso.Dialect, more ...string) (Result, error) {
	return r.closedWith(name, target, more, d, r.approved)
}

func (r *runner) closedWith(name, target string, more []string, d iso.Dialect, msgs []trace.Message) (Result, error) {
	return r.phase(name, replay.Options{Target: target, Targets: more, Connections: r.c.connections,
		Concurrency: r.c.concurrency, Duration: r.c.duration, Warmup: r.c.duration / 10, MaxErrors: -1,
		Dialect: d, Translate: true}, msgs)
}

func (r *runner) rate(name, target string, d iso.Dialect, rate float64, more ...string) (Result, error) {
	return r.phase(name, replay.Options{Target: target, Targets: more, Connections: r.c.connections, Rate: rate,
		Duration: r.c.duration, Warmup: r.c.duration / 10, MaxErrors: -1, Dialect: d, Translate: true}, r.approved)
}

func runPhases(ctx context.Context, c config) (*Results, error) {
	msgs := trace.Generate(trace.GenOptions{Count: 10_000, Seed: 1})
	approved := slices.Clone(msgs)
	for i := range approved {
		approved[i].Expect = []string{"00"}
	}
	res := &Results{Duration: c.duration.String(), Journal: c.journal != journalOff,
		JournalKind: string(c.journal), Nodes: c.nodes, Issuer: c.issuer, IssConns: c.issuerConns,
		Dialects: c.dialects.String(), Sync: c.sync}
	r := &runner{ctx: ctx, c: c, msgs: msgs, approved: approved, failed: &res.Failed}
	var err error
	if !c.switchOnly {
		if res.Echo, err = r.generatorCost(); err != nil {
			return nil, err
		}
	}
	issKind := "issuer"
	if c.issuer == "moov" {
		issKind = "moov-issuer"
	}
	iss, err := startChild(issKind, envDialect+"="+c.dialects.iss.Name)
	if err != nil {
		return nil, err
	}
	defer iss.stop()
	if !c.switchOnly {
		if err := r.relays(&res.Paths, "", iss.addr); err != nil {
			return nil, err
		}
	}
	sw, stopSw, err := startSwitchChildren(iss.addr, c)
	if err != nil {
		return nil, err
	}
	cleanup := sync.OnceFunc(stopSw)
	defer cleanup()
	first, more := sw.targets()
	if res.Switched, err = r.measured(sw, c.profile, "closed", func() (Result, error) {
		return r.closed("replay → switch → issuer", first, c.dialects.acq, more...)
	}); err != nil {
		return nil, err
	}
	if c.switchOnly {
		return res, nil
	}
	res.SwOverDir = ratio(res.Switched.ThroughputPerS, res.Direct.ThroughputPerS)
	res.setRatios()

	res.FixedRate = float64(int(res.Switched.ThroughputPerS / 2))
	if c.rate > 0 {
		res.FixedRate = c.rate
	}
	if res.FixedRate < 1 {
		return nil, fmt.Errorf("switched throughput too low for a fixed-rate phase")
	}
	if err := r.ratePairs(res, iss.addr, sw); err != nil {
		return nil, err
	}
	if err := r.sweep(res, iss.addr, sw); err != nil {
		return nil, err
	}
	if !c.journalPair {
		return res, nil
	}
	cleanup() // one switch at a time on the shared cores
	return res, r.journalPairs(res, iss.addr)
}

// ratePairs runs the fixed-rate phases as alternating pairs (direct, then
// switched) and keeps the pair whose added p99 is the median. The first
// switched phase is the profiled one.
func (r *runner) ratePairs(res *Results, issuer string, sw nodes) error {
	first, more := sw.targets()
	type pair struct{ dir, sw Result }
	pairs := make([]pair, 0, r.c.pairs)
	for i := range r.c.pairs {
		var p pair
		var err error
		if p.dir, err = r.rate("fixed rate → issuer", issuer, r.c.dialects.iss, res.FixedRate); err != nil {
			return err
		}
		profile := r.c.profile
		if i > 0 {
			profile = ""
		}
		if p.sw, err = r.measured(sw, profile, "fixed", func() (Result, error) {
			return r.rate("fixed rate → switch → issuer", first, r.c.dialects.acq, res.FixedRate, more...)
		}); err != nil {
			return err
		}
		pairs = append(pairs, p)
		res.RatePairs = append(res.RatePairs, p.sw.P99ms-p.dir.P99ms)
	}
	// RatePairs keeps the order run; pairs is sorted for the median.
	slices.SortFunc(pairs, func(a, b pair) int {
		return cmp.Compare(a.sw.P99ms-a.dir.P99ms, b.sw.P99ms-b.dir.P99ms)
	})
	m := pairs[(len(pairs)-1)/2]
	res.RateDir, res.RateSw = m.dir, m.sw
	return nil
}

// generatorCost runs the generator against a plain echo in a child
// process: this process's CPU time is then the generator's alone.
func (r *runner) generatorCost() (Result, error) {
	echo, err := startChild("echo", envDialect+"="+r.c.dialects.acq.Name)
	if err != nil {
		return Result{}, err
	}
	defer echo.stop()
	cpu0 := cpuTime()
	res, err := r.closedWith("generator → echo (child process)", echo.addr, nil, r.c.dialects.acq, r.msgs)
	cpu := cpuTime() - cpu0
	if n := res.Answered + res.warmup; err == nil && n > 0 {
		// Warmup requests cost CPU too: divide by every request answered.
		res.GeneratorCPUus = float64(cpu.Microseconds()) / float64(n)
	}
	return res, err
}

// relays runs the closed loop direct to the issuer, through socat and
// through the Go relay into p; prefix starts the phases' names.
func (r *runner) relays(p *Paths, prefix, issuer string) error {
	var err error
	if p.Direct, err = r.closed(prefix+"replay → issuer", issuer, r.c.dialects.iss); err != nil {
		return err
	}
	if p.Socat, err = r.socatPhase(prefix, issuer); err != nil {
		return err
	}
	p.GoRelay, err = r.goRelayPhase(prefix, issuer)
	return err
}

// socatPhase runs the closed loop through socat; nil without socat.
func (r *runner) socatPhase(prefix, target string) (*Result, error) {
	addr, stop, ok, err := startSocat(target)
	if !ok {
		fmt.Fprintln(os.Stderr, "bench: socat not on PATH: skipping the socat phase (apt-get install socat)")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer stop()
	s, err := r.closed(prefix+"replay → socat → issuer", addr, r.c.dialects.iss)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// goRelayPhase runs the closed loop through a byte relay written in Go
// (gorelay.go), with its CPU time, allocations, syscalls and waits per
// request as for the switch: the floor beneath the switch's figures.
func (r *runner) goRelayPhase(prefix, target string) (Result, error) {
	rel, err := startChild("relay", envRelayTarget+"="+target)
	if err != nil {
		return Result{}, err
	}
	defer rel.stop()
	m0, err := mark(rel)
	if err != nil {
		return Result{}, err
	}
	res, err := r.closed(prefix+"replay → Go relay → issuer", rel.addr, r.c.dialects.iss)
	if err != nil {
		return res, err
	}
	m1, err := mark(rel)
	if err != nil {
		return res, err
	}
	// The relay does not count requests: every one the generator sent
	// (warmup included) went through it.
	m1.requests = m0.requests + res.Answered + res.warmup
	res.Middle = cost(m0, m1)
	return res, nil
}

// startSwitchChildren runs the switch (--nodes of them) in child
// processes, their files in a fresh temporary directory each.
func startSwitchChildren(issuerAddr string, c config) (nodes, func(), error) {
	var sw nodes
	var cleanups []func()
	cleanup := func() {
		for _, f := range cleanups {
			f()
		}
	}
	for i := range c.nodes {
		n, stop, err := startSwitchChild(issuerAddr, c, fmt.Sprintf("bench-%d", i+1))
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		sw, cleanups = append(sw, n), append(cleanups, stop)
	}
	return sw, cleanup, nil
}

// startSwitchChild runs one switch in a child process with its files in
// a fresh temporary directory.
func startSwitchChild(issuerAddr string, c config, node string) (*child, func(), error) {
	profileDir := c.profile
	dir, err := os.MkdirTemp("", "cardswitch-bench-")
	if err != nil {
		return nil, nil, err
	}
	if profileDir != "" {
		if c.nodes > 1 {
			profileDir = filepath.Join(profileDir, node)
		}
		if profileDir, err = filepath.Abs(profileDir); err == nil {
			err = os.MkdirAll(profileDir, 0o755)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	sw, err := startChild("switch", envIssuer+"="+issuerAddr, envDir+"="+dir, envProfile+"="+profileDir,
		envJournal+"="+string(c.journal), fmt.Sprintf("%s=%d", envConns, c.issuerConns), envNode+"="+node,
		envSync+"="+c.sync,
		envAcqDialect+"="+c.dialects.acq.Name, envIssDialect+"="+c.dialects.iss.Name)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return sw, func() { sw.stop(); _ = os.RemoveAll(dir) }, nil
}

// measured runs a phase against the switch nodes and adds their cost
// (and the database's); with a profile directory the phase is wrapped in
// each node's profiles, written to its subdirectory name.
func (r *runner) measured(sw nodes, profileDir, name string, run func() (Result, error)) (Result, error) {
	if profileDir != "" {
		if err := sw.ask("prof-start " + name); err != nil {
			return Result{}, err
		}
	}
	pg := r.c.journal == journalPostgres
	m0, err := sw.mark(pg)
	if err != nil {
		return Result{}, err
	}
	res, err := run()
	if err != nil {
		return res, err
	}
	m1, err := sw.mark(pg)
	if err != nil {
		return res, err
	}
	if profileDir != "" {
		if err := sw.ask("prof-stop"); err != nil {
			return res, err
		}
	}
	res.Middle = cost(m0, m1)
	return res, nil
}

// cost is the middle process's cost per request between two marks, nil
// when it handled none.
func cost(m0, m1 marks) *Cost {
	n := m1.requests - m0.requests
	if n <= 0 {
		return nil
	}
	return &Cost{Requests: n, CPUusPerTx: float64(m1.cpuNS-m0.cpuNS) / 1e3 / float64(n),
		AllocsPerTx:   float64(m1.mallocs-m0.mallocs) / float64(n),
		SyscallsPerTx: float64(m1.syscalls-m0.syscalls) / float64(n),
		WaitsPerTx:    float64(m1.waits-m0.waits) / float64(n), JournalLag: m1.lag,
		PostgresCPUusPerTx: float64(m1.pgCPUNS-m0.pgCPUNS) / 1e3 / float64(n)}
}

type marks struct{ cpuNS, mallocs, requests, syscalls, waits, lag, pgCPUNS int64 }

func mark(c *child) (marks, error) {
	ans, err := c.ask("mark")
	if err != nil {
		return marks{}, fmt.Errorf("%s child: %w", c.kind, err)
	}
	var m marks
	if _, err := fmt.Sscan(ans, &m.cpuNS, &m.mallocs, &m.requests, &m.syscalls, &m.waits, &m.lag); err != nil {
		return marks{}, fmt.Errorf("%s child answered %q: %w", c.kind, ans, err)
	}
	return m, nil
}

func (r *runner) phase(name string, opt replay.Options, msgs []trace.Message) (Result, error) {
	fmt.Fprintf(os.Stderr, "bench: %s ...\n", name)
	rep, err := replay.Run(r.ctx, opt, msgs)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	if f, ok := failedOf(name, rep); ok {
		*r.failed = append(*r.failed, f)
	}
	return Result{
		Name: name, Target: opt.Target, Mode: rep.Mode, Rate: rep.Rate, Answered: rep.Answered,
		Failures:       rep.Timeouts + rep.Errors + rep.ValidationFailures,
		ThroughputPerS: rep.ThroughputPerS, P50ms: rep.Latency.P50, P99ms: rep.Latency.P99, MaxMS: rep.Latency.Max,
		warmup: rep.Warmup,
	}, nil
}

// cpuTime is this process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// kernelCounts is this process's read and write system calls so far
// (syscr+syscw of /proc/self/io; 0 where there is none) and its voluntary
// context switches.
func kernelCounts() (syscalls, waits int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		waits = ru.Nvcsw
	}
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, waits
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); ok && err == nil && (k == "syscr" || k == "syscw") {
			syscalls += n
		}
	}
	return syscalls, waits
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
