package main

import (
	"context"
	"fmt"
	"os"

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
	warmup         int64   // requests sent during the warmup
}

// Results are all phases; Socat is nil without socat.
type Results struct {
	Duration  string  `json:"phase_duration"`
	Echo      Result  `json:"generator_echo"`
	Direct    Result  `json:"direct"`
	Switched  Result  `json:"switched"`
	Socat     *Result `json:"socat,omitempty"`
	RateDir   Result  `json:"fixed_rate_direct"`
	RateSw    Result  `json:"fixed_rate_switched"`
	HalfRate  float64 `json:"fixed_rate"`
	SwOverDir float64 `json:"ratio_switched_direct"`
	SwOverSoc float64 `json:"ratio_switched_socat,omitempty"`
}

func runPhases(ctx context.Context, c config) (*Results, error) {
	msgs := trace.Generate(trace.GenOptions{Count: 10_000, Seed: 1})
	res := &Results{Duration: c.duration.String()}
	closed := func(name, target string) (Result, error) {
		return phase(ctx, name, replay.Options{Target: target, Connections: c.connections,
			Concurrency: c.concurrency, Duration: c.duration, Warmup: c.duration / 10, MaxErrors: -1}, msgs)
	}

	echo, err := startEchoChild()
	if err != nil {
		return nil, err
	}
	cpu0 := cpuTime()
	res.Echo, err = closed("generator → echo (child process)", echo.addr)
	cpu := cpuTime() - cpu0
	echo.stop()
	if err != nil {
		return nil, err
	}
	if n := res.Echo.Answered + res.Echo.warmup; n > 0 {
		// Warmup requests cost CPU too: divide by every request answered.
		res.Echo.GeneratorCPUus = float64(cpu.Microseconds()) / float64(n)
	}

	sim, stopSim, err := startSim()
	if err != nil {
		return nil, err
	}
	defer stopSim()
	swAddr, stopSw, err := startSwitch(sim.Addr())
	if err != nil {
		return nil, err
	}
	defer stopSw()

	if res.Direct, err = closed("replay → simulator", sim.Addr()); err != nil {
		return nil, err
	}
	if res.Switched, err = closed("replay → switch → simulator", swAddr); err != nil {
		return nil, err
	}
	if err := socatPhase(res, sim.Addr(), closed); err != nil {
		return nil, err
	}
	res.SwOverDir = ratio(res.Switched.ThroughputPerS, res.Direct.ThroughputPerS)

	res.HalfRate = float64(int(res.Switched.ThroughputPerS / 2))
	if res.HalfRate < 1 {
		return nil, fmt.Errorf("switched throughput too low for a fixed-rate phase")
	}
	rate := func(name, target string) (Result, error) {
		return phase(ctx, name, replay.Options{Target: target, Connections: c.connections, Rate: res.HalfRate,
			Duration: c.duration, Warmup: c.duration / 10, MaxErrors: -1}, msgs)
	}
	if res.RateDir, err = rate("fixed rate → simulator", sim.Addr()); err != nil {
		return nil, err
	}
	res.RateSw, err = rate("fixed rate → switch → simulator", swAddr)
	return res, err
}

func socatPhase(res *Results, simAddr string, closed func(string, string) (Result, error)) error {
	addr, stop, ok, err := startSocat(simAddr)
	if !ok {
		fmt.Fprintln(os.Stderr, "bench: socat not on PATH: skipping the socat phase")
		return nil
	}
	if err != nil {
		return err
	}
	defer stop()
	r, err := closed("replay → socat → simulator", addr)
	if err != nil {
		return err
	}
	res.Socat = &r
	res.SwOverSoc = ratio(res.Switched.ThroughputPerS, r.ThroughputPerS)
	return nil
}

func phase(ctx context.Context, name string, opt replay.Options, msgs []trace.Message) (Result, error) {
	fmt.Fprintf(os.Stderr, "bench: %s ...\n", name)
	rep, err := replay.Run(ctx, opt, msgs)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	return Result{
		Name: name, Target: opt.Target, Mode: rep.Mode, Rate: rep.Rate, Answered: rep.Answered,
		Failures:       rep.Timeouts + rep.Errors + rep.ValidationFailures,
		ThroughputPerS: rep.ThroughputPerS, P50ms: rep.Latency.P50, P99ms: rep.Latency.P99, MaxMS: rep.Latency.Max,
		warmup: rep.Warmup,
	}, nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
