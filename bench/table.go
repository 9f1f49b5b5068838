package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
)

func printTable(w io.Writer, c config, r *Results) {
	journal := "journal on (SQLite, sync " + c.sync + ")"
	switch {
	case !r.Journal:
		journal = "JOURNAL OFF (--journal=false)"
	case r.JournalKind == string(journalPostgres):
		journal = fmt.Sprintf("journal on PostgreSQL, %d node(s)", r.Nodes)
	}
	fmt.Fprintf(w, "\ncardswitch bench: %s per phase, %d connections, closed loop %d in flight; switch %s; %s issuer over %d connection(s); %d CPUs (%s)\n\n",
		c.duration, c.connections, c.concurrency, journal, c.issuer, c.issuerConns, runtime.NumCPU(), cpuModel())
	if d := c.dialects; d.acq.Name != "" {
		how := "same dialect: relayed untranslated"
		if d.translated() {
			how = "translated at the switch's edges"
		}
		fmt.Fprintf(w, "dialects: acquirer side %s, issuer side %s (%s)\n\n", d.acq.Name, d.iss.Name, how)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tthroughput/s\tp50 ms\tp99 ms\tmax ms\tfailures\tCPU-µs/tx\tallocs/tx\tsyscalls/tx\twaits/tx\tpostgres CPU-µs/tx\t")
	rows := []Result{r.Echo, r.Direct}
	if r.Socat != nil {
		rows = append(rows, *r.Socat)
	}
	rows = append(rows, r.GoRelay, r.Switched, r.RateDir, r.RateSw)
	for _, x := range rows {
		cpu, allocs, sys, waits, pg := "", "", "", "", ""
		if x.Middle != nil {
			cpu, allocs = fmt.Sprintf("%.1f", x.Middle.CPUusPerTx), fmt.Sprintf("%.1f", x.Middle.AllocsPerTx)
			sys, waits = fmt.Sprintf("%.2f", x.Middle.SyscallsPerTx), fmt.Sprintf("%.2f", x.Middle.WaitsPerTx)
			if x.Middle.PostgresCPUusPerTx > 0 {
				pg = fmt.Sprintf("%.1f", x.Middle.PostgresCPUusPerTx)
			}
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.3f\t%.3f\t%d\t%s\t%s\t%s\t%s\t%s\t\n",
			x.Name, x.ThroughputPerS, x.P50ms, x.P99ms, x.MaxMS, x.Failures, cpu, allocs, sys, waits, pg)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nCPU-µs, allocs, syscalls and waits per transaction: of the process in the middle (the switch, its nodes summed; the Go relay in its row)")
	if r.JournalKind == string(journalPostgres) {
		fmt.Fprintf(w, "\npostgres CPU-µs/tx: every process named postgres on this machine (server and backends), beside the switch's")
	}
	if sw := r.Switched.Middle; sw != nil && r.Journal {
		fmt.Fprintf(w, "\njournal lag at the end of the closed loop: %d entries (answered, not yet indexed)", sw.JournalLag)
	}
	fmt.Fprintf(w, "\ngenerator cost: %.1f CPU-µs per request (replay process alone, echo target in a child process)\n", r.Echo.GeneratorCPUus)
	fmt.Fprintf(w, "throughput switched/direct: %.2f\n", r.SwOverDir)
	if r.Socat != nil {
		fmt.Fprintf(w, "throughput switched/socat:  %.2f (goal >= 0.80)\n", r.SwOverSoc)
	}
	fmt.Fprintf(w, "throughput switched/Go relay: %.2f (the same relay in Go: what the network and the runtime alone allow)\n", r.SwOverGo)
	how := "half the switched maximum"
	if c.rate > 0 {
		how = "--rate"
	}
	pairs := make([]string, len(r.RatePairs))
	for i, a := range r.RatePairs {
		pairs[i] = fmt.Sprintf("%+.3f", a)
	}
	fmt.Fprintf(w, "fixed rate %.0f/s (%s), the median of %d alternating pairs (the rows above): added p50 %+.3f ms, "+
		"added p99 %+.3f ms (goal <= +0.500); added p99 of each pair: %s ms\n",
		r.FixedRate, how, len(r.RatePairs), r.RateSw.P50ms-r.RateDir.P50ms, r.RateSw.P99ms-r.RateDir.P99ms,
		strings.Join(pairs, ", "))
}

// cpuModel is the first "model name" in /proc/cpuinfo, "" elsewhere.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// printSwitchOnly prints the one row of --switch-only.
func printSwitchOnly(w io.Writer, x Result) {
	cpu := ""
	if x.Middle != nil {
		cpu = fmt.Sprintf("%.2f", x.Middle.CPUusPerTx)
	}
	fmt.Fprintf(w, "switch closed loop: %.0f tx/s, CPU-µs/tx %s, p50 %.3f ms, p99 %.3f ms, failures %d\n",
		x.ThroughputPerS, cpu, x.P50ms, x.P99ms, x.Failures)
}
