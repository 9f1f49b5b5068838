package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// JournalPair is one pair of --journal-pair: the closed loop, then the
// fixed rate, through a fresh switch with its journal on (--sync), then
// through a fresh one with it off, against the same issuer. Alternating
// pairs in one run put both sides in the same hour of this shared VM.
type JournalPair struct {
	On      Result `json:"closed_journal_on"`
	Off     Result `json:"closed_journal_off"`
	RateOn  Result `json:"fixed_rate_journal_on"`
	RateOff Result `json:"fixed_rate_journal_off"`
	// Throughput is the closed loop's on/off ratio, CPUus the switch's
	// CPU-µs per transaction on minus off, P99ms the fixed rate's p99 on
	// minus off.
	Throughput float64 `json:"throughput_on_over_off"`
	CPUus      float64 `json:"cpu_us_per_tx_on_minus_off"`
	P99ms      float64 `json:"fixed_rate_p99_ms_on_minus_off"`
}

// journalPairs runs --pairs alternating journal on/off pairs at res's
// fixed rate.
func (r *runner) journalPairs(res *Results, issuer string) error {
	for range r.c.pairs {
		var p JournalPair
		var err error
		if p.On, p.RateOn, err = r.journalSide(issuer, true, res.FixedRate); err != nil {
			return err
		}
		if p.Off, p.RateOff, err = r.journalSide(issuer, false, res.FixedRate); err != nil {
			return err
		}
		p.Throughput = ratio(p.On.ThroughputPerS, p.Off.ThroughputPerS)
		if p.On.Middle != nil && p.Off.Middle != nil {
			p.CPUus = p.On.Middle.CPUusPerTx - p.Off.Middle.CPUusPerTx
		}
		p.P99ms = p.RateOn.P99ms - p.RateOff.P99ms
		res.JournalPairs = append(res.JournalPairs, p)
	}
	return nil
}

// journalSide runs the closed loop and the fixed rate through a fresh
// switch child with its journal on or off.
func (r *runner) journalSide(issuer string, on bool, rate float64) (closed, fixed Result, err error) {
	c := r.c
	c.journal, c.profile, c.nodes = journalOff, "", 1
	if on {
		c.journal = journalSQLite
	}
	sw, cleanup, err := startSwitchChild(issuer, c, "bench-1")
	if err != nil {
		return closed, fixed, err
	}
	defer cleanup()
	side := "journal off"
	if on {
		side = "journal on, sync " + c.sync
	}
	if closed, err = r.measured(nodes{sw}, "", "", func() (Result, error) {
		return r.closed("pair: replay → switch ("+side+") → issuer", sw.addr, c.dialects.acq)
	}); err != nil {
		return closed, fixed, err
	}
	fixed, err = r.measured(nodes{sw}, "", "", func() (Result, error) {
		return r.rate("pair: fixed rate → switch ("+side+") → issuer", sw.addr, c.dialects.acq, rate)
	})
	return closed, fixed, err
}

// printJournalPairs prints each pair and the median of each figure
// against the goals of issue 26.
func printJournalPairs(w io.Writer, c config, ps []JournalPair) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "\njournal on (sync %s) vs off, %d alternating pairs of fresh switches (closed loop, then the fixed rate):\n",
		c.sync, len(ps))
	var tput, cpu, p99 []float64
	for i, p := range ps {
		fmt.Fprintf(w, "  pair %d: %.0f vs %.0f tx/s (%.2fx), CPU-µs/tx %+.2f, fixed-rate p99 %.3f vs %.3f ms (%+.3f)\n",
			i+1, p.On.ThroughputPerS, p.Off.ThroughputPerS, p.Throughput, p.CPUus, p.RateOn.P99ms, p.RateOff.P99ms, p.P99ms)
		tput, cpu, p99 = append(tput, p.Throughput), append(cpu, p.CPUus), append(p99, p.P99ms)
	}
	fmt.Fprintf(w, "  median: throughput on/off %.2fx (goal >= 0.90), CPU-µs/tx %+.2f (goal <= +0.50), "+
		"added p99 %+.3f ms (goal <= +1.000)\n", median(tput), median(cpu), median(p99))
	fmt.Fprintf(w, "  throughput on/off per pair: %s\n", joinFloats(tput, "%.2f"))
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.SortFunc(s, cmp.Compare[float64])
	return s[(len(s)-1)/2]
}

func joinFloats(xs []float64, format string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(out, ", ")
}
