package replay

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/cardswitch/cardswitch/iso"
)

// WriteSummary prints the end-of-run table.
func (rep *Report) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	mode := rep.Mode
	switch {
	case rep.Rate > 0:
		mode += fmt.Sprintf(" at %g/s", rep.Rate)
	case rep.Concurrency > 0:
		mode += fmt.Sprintf(", concurrency %d", rep.Concurrency)
	}
	row("target", "%s (%s, %d connections)", rep.Target, mode, rep.Connections)
	if rep.StoppedEarly != "" {
		row("stopped early", "%s", rep.StoppedEarly)
	}
	row("sent", "%d", rep.Sent)
	row("answered", "%d", rep.Answered)
	row("timeouts", "%d", rep.Timeouts)
	row("errors", "%d (%d connections failed)", rep.Errors, rep.ConnectionErrors)
	if rep.Late > 0 {
		row("late responses", "%d", rep.Late)
	}
	if rep.Warmup > 0 {
		row("warmup (excluded)", "%d", rep.Warmup)
	}
	if rep.Abandoned > 0 {
		row("abandoned in flight", "%d", rep.Abandoned)
	}
	row("duration", "%.2fs", rep.DurationS)
	row("throughput", "%.1f/s", rep.ThroughputPerS)
	l := rep.Latency
	row("latency", "p50 %s  p90 %s  p99 %s  p99.9 %s  max %s",
		fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.P999), fmtMS(l.Max))
	for _, code := range sortedKeys(rep.Codes) {
		row("code "+code, "%d\t%s", rep.Codes[code], iso.CodeText(code))
	}
	row("validation failures", "%d", rep.ValidationFailures)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range rep.Failures {
		if _, err := fmt.Fprintf(w, "  %s\n", f); err != nil {
			return err
		}
	}
	if n := rep.ValidationFailures - int64(len(rep.Failures)); n > 0 {
		_, err := fmt.Fprintf(w, "  ... and %d more\n", n)
		return err
	}
	return nil
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
