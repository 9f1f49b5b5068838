// Command bench measures cardswitch's throughput, added latency, CPU time
// and allocations per transaction:
//
//	go run ./bench [--duration 5s] [--connections 4] [--concurrency 256] [--json out.json] [--profile DIR] [--journal sqlite|postgres|false] [--nodes N] [--sync normal|full] [--journal-pair] [--rate N] [--pairs 3] [--sweep 16,64] [--issuer lean|moov] [--issuer-connections N] [--dialect A,B]
//
// Every party runs in its own process, as in production: the load
// generator (replay) here, the issuer and the switch in child processes of
// this binary. The issuer is a lean approving echo (replay's
// NewApprovingEchoServer), so it is not the bottleneck. The switch is
// switchd.New on a production configuration: journal on (in a temporary
// directory), admin listener with metrics on, defaults elsewhere.
//
// Phases: the generator against a plain echo (its own CPU cost), closed
// loop direct to the issuer, through socat (a plain byte relay: the
// reference), through the same relay written in Go (gorelay.go: the
// floor for any switch in Go, with its CPU cost), through the switch;
// then a fixed rate at half the switch's maximum, direct and switched,
// for the latency the switch adds: --pairs alternating pairs of the two
// (3 by default), reported by the pair with the median added p99, every
// pair listed (on this shared VM one phase's p99 can be several times
// another's, for either path). The switch's CPU time and mallocs are read
// in its own process before and after each switched phase and divided by
// the requests it handled there; the Go relay's likewise, divided by the
// requests the generator sent through it.
// --profile writes the switch's cpu, allocs, block and mutex profiles of
// the closed-loop switched phase to DIR/closed and of the fixed-rate one
// to DIR/fixed. --journal=false runs the switch without its journal, to
// measure what the journal costs (the table then says so); --sync full
// runs it with journal.sync full. --journal-pair then runs --pairs
// alternating pairs of fresh switches, journal on and off, each the
// closed loop and the fixed rate, and prints their throughput ratio, the
// CPU-µs per transaction and the fixed rate's p99 the journal adds
// (journalpair.go). --journal postgres keeps it in the PostgreSQL
// database CARDSWITCH_JOURNAL_POSTGRES names (a throwaway one: the
// entries stay) and adds the postgres processes' CPU time per transaction
// (cluster.go), and --nodes N runs N switch nodes on it, the generator's
// connections spread over them, their costs summed (--profile then writes
// DIR/bench-<n>/... per node). --sweep N,M,...
// runs the closed loop again, direct, through socat, the Go relay and the
// switch, with the same requests in flight over N, M, ... connections
// (sweep.go): the paths compare differently as each connection's pipeline
// gets shallower. --dialect A,B runs the switch with listen.dialect A and
// its issuer's dialect B (dialect.go): the generator speaks A to the
// switch (B in the phases straight to the issuer) and the lean issuer
// speaks B, both translating with iso.Translator's fast path, so that
// the switch's CPU-µs and allocations per transaction compare with a
// same-dialect run (--dialect iso87ascii,iso87ascii, the default).
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
	profile     string
	journal     journalKind // --journal: sqlite, postgres or off
	sync        string      // journal.sync (--sync)
	journalPair bool        // --journal-pair
	switchOnly  bool        // --switch-only: the switch's closed loop alone, for A/B runs of two builds
	nodes       int         // --nodes: switch processes sharing the load (postgres)
	issuer      string      // "lean" or "moov" (--issuer)
	issuerConns int         // the switch's issuers[].connections (--issuer-connections)
	rate        float64
	pairs       int
	sweep       []int // --sweep: connection counts for the extra closed-loop rows
	dialects    dialects
}

func main() {
	if kind := os.Getenv(childEnv); kind != "" {
		if err := runChild(kind); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	var c config
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "length of each phase")
	flag.IntVar(&c.connections, "connections", 4, "connections per run")
	flag.IntVar(&c.concurrency, "concurrency", 256, "closed-loop requests in flight (total)")
	flag.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.StringVar(&c.profile, "profile", "", "write the switch's pprof profiles (cpu, allocs, block, mutex) to this directory")
	c.journal = journalSQLite
	flag.Var(&c.journal, "journal", "the switch's journal: sqlite (or true), postgres (the DSN in CARDSWITCH_JOURNAL_POSTGRES; its postgres processes' CPU is reported too) or false (measure what the journal costs)")
	flag.IntVar(&c.nodes, "nodes", 1, "switch nodes on the same journal (more than 1 needs --journal postgres); the generator's connections are spread over them")
	flag.StringVar(&c.sync, "sync", "normal", "the switch's journal.sync: normal or full (an fsync per log write)")
	flag.BoolVar(&c.switchOnly, "switch-only", false, "run the switch's closed loop alone (no relays, no fixed rate) and print its row: for many short alternating runs of two builds on a noisy machine")
	flag.BoolVar(&c.journalPair, "journal-pair", false, "after the main phases, --pairs alternating pairs of fresh switches with the journal on (--sync) and off: closed loop and fixed rate each, their ratios against the goals of issue 26")
	flag.StringVar(&c.issuer, "issuer", "lean", "the issuer: lean (edits each frame in place) or moov (unpacks and packs each message with moov-io, one goroutine per connection, writes once its input is drained)")
	flag.IntVar(&c.issuerConns, "issuer-connections", 1, "the switch's connections to the issuer endpoint (issuers[].connections)")
	flag.Float64Var(&c.rate, "rate", 0, "fixed-rate phases at this rate (default: half the switched maximum)")
	flag.IntVar(&c.pairs, "pairs", 3, "fixed-rate phases as this many alternating pairs (direct, switched); the pair with the median added p99 is reported")
	dialect := flag.String("dialect", "iso87ascii,iso87ascii", "A,B: the switch's acquirer listener speaks built-in dialect A (the generator too), its issuer B (the lean issuer too)")
	sweep := flag.String("sweep", "", "after the main phases, the closed loop again (direct, socat, Go relay, switch) at each of these connection counts, e.g. 16,64")
	flag.Parse()
	if c.issuer != "lean" && c.issuer != "moov" {
		fmt.Fprintln(os.Stderr, "bench: --issuer must be lean or moov")
		os.Exit(2)
	}
	if c.sync != "normal" && c.sync != "full" {
		fmt.Fprintln(os.Stderr, "bench: --sync must be normal or full")
		os.Exit(2)
	}
	if c.pairs < 1 {
		fmt.Fprintln(os.Stderr, "bench: --pairs must be at least 1")
		os.Exit(2)
	}
	if err := c.checkNodes(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	var err error
	if c.dialects, err = parseDialects(*dialect, c.issuer); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if c.sweep, err = parseSweep(*sweep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
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
	if c.switchOnly {
		printSwitchOnly(os.Stdout, res.Switched)
		return nil
	}
	printTable(os.Stdout, c, res)
	printSweep(os.Stdout, c, res.Sweep)
	printJournalPairs(os.Stdout, c, res.JournalPairs)
	printFailed(os.Stdout, res.Failed)
	if c.jsonOut == "" {
		return nil
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(c.jsonOut, append(b, '\n'), 0o600)
}
