package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// SweepRow is the closed loop at one connection count (--sweep): the same
// requests in flight (--concurrency) spread over more or fewer
// connections. How deep each connection's pipeline is decides how many
// frames a relay moves per system call, and so how the paths compare:
// with few deep connections a byte relay batches ~50 frames a write and
// costs little besides the switch's per-message work; with many shallow
// ones every path pays system calls per frame, and the switch carries all
// of them to the issuer over one link.
type SweepRow struct {
	Connections int `json:"connections"`
	Paths
}

// parseSweep reads --sweep: connection counts separated by commas.
func parseSweep(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--sweep %q: %q is not a connection count (a whole number, at least 1)", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// sweep runs the closed-loop phases (direct, socat, Go relay, switch) once
// per connection count, against the same issuer and switch processes.
func (r *runner) sweep(res *Results, issuer string, sw nodes) error {
	first, more := sw.targets()
	for _, n := range r.c.sweep {
		rn := *r
		rn.c.connections = n
		row := SweepRow{Connections: n}
		prefix := fmt.Sprintf("%d conns: ", n)
		if err := rn.relays(&row.Paths, prefix, issuer); err != nil {
			return err
		}
		var err error
		if row.Switched, err = rn.measured(sw, "", "", func() (Result, error) {
			return rn.closed(prefix+"replay → switch → issuer", first, rn.c.dialects.acq, more...)
		}); err != nil {
			return err
		}
		row.setRatios()
		res.Sweep = append(res.Sweep, row)
	}
	return nil
}

func printSweep(w io.Writer, c config, rows []SweepRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\nclosed loop, %d in flight over N connections (--sweep): throughput/s\n\n", c.concurrency)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "connections\tdirect\tsocat\tGo relay\tswitch\tswitch/socat\tswitch/Go relay\tswitch CPU-µs/tx\tswitch syscalls/tx\t")
	for _, x := range rows {
		soc, ratioSoc := "-", "-"
		if x.Socat != nil {
			soc, ratioSoc = fmt.Sprintf("%.0f", x.Socat.ThroughputPerS), fmt.Sprintf("%.2f", x.SwOverSoc)
		}
		cpu, sys := "", ""
		if m := x.Switched.Middle; m != nil {
			cpu, sys = fmt.Sprintf("%.1f", m.CPUusPerTx), fmt.Sprintf("%.2f", m.SyscallsPerTx)
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%s\t%.0f\t%.0f\t%s\t%.2f\t%s\t%s\t\n", x.Connections, x.Direct.ThroughputPerS,
			soc, x.GoRelay.ThroughputPerS, x.Switched.ThroughputPerS, ratioSoc, x.SwOverGo, cpu, sys)
	}
	_ = tw.Flush()
}
