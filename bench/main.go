// Command bench measures cardswitch's throughput and added latency with the
// replay engine, all in one process (plus one child process so the load
// generator's own CPU cost can be measured alone):
//
//	go run ./bench [--duration 5s] [--connections 4] [--concurrency 256] [--json out.json]
//
// Phases: the generator against an echo server (CPU-µs per request of the
// generator itself), replay → issuer simulator directly, replay → switch →
// simulator, replay → socat → simulator when socat is on PATH, and
// fixed-rate runs at half the switch's maximum throughput, direct and
// switched, for the latency the switch adds.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
)

type config struct {
	duration    time.Duration
	connections int
	concurrency int
	jsonOut     string
}

func main() {
	if os.Getenv(echoChildEnv) != "" {
		runEchoChild()
		return
	}
	var c config
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "length of each phase")
	flag.IntVar(&c.connections, "connections", 4, "connections per run")
	flag.IntVar(&c.concurrency, "concurrency", 256, "closed-loop requests in flight (total)")
	flag.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.Parse()
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	res, err := runPhases(ctx, c)
	if err != nil {
		return err
	}
	printTable(os.Stdout, c, res)
	if c.jsonOut == "" {
		return nil
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(c.jsonOut, append(b, '\n'), 0o600)
}
