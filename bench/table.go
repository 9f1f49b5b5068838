package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

func printTable(w io.Writer, c config, r *Results) {
	fmt.Fprintf(w, "\ncardswitch bench: %s per phase, %d connections, closed loop %d in flight\n\n",
		c.duration, c.connections, c.concurrency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tthroughput/s\tp50 ms\tp99 ms\tmax ms\tfailures\t")
	rows := []Result{r.Echo, r.Direct, r.Switched}
	if r.Socat != nil {
		rows = append(rows, *r.Socat)
	}
	rows = append(rows, r.RateDir, r.RateSw)
	for _, x := range rows {
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.3f\t%.3f\t%d\t\n", x.Name, x.ThroughputPerS, x.P50ms, x.P99ms, x.MaxMS, x.Failures)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\ngenerator cost: %.1f CPU-µs per request (replay process alone, echo target in a child process)\n", r.Echo.GeneratorCPUus)
	fmt.Fprintf(w, "throughput switched/direct: %.2f\n", r.SwOverDir)
	if r.Socat != nil {
		fmt.Fprintf(w, "throughput switched/socat:  %.2f\n", r.SwOverSoc)
	}
	fmt.Fprintf(w, "fixed rate %.0f/s (half the switched maximum): added p50 %+.3f ms, added p99 %+.3f ms\n",
		r.HalfRate, r.RateSw.P50ms-r.RateDir.P50ms, r.RateSw.P99ms-r.RateDir.P99ms)
}
