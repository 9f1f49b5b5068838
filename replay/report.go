package replay

import (
	"encoding/json"
	"io"
	"sort"
	"time"
)

// Report is a run's outcome. It marshals to the JSON the --report flag
// writes.
type Report struct {
	Target      string  `json:"target"`
	Mode        string  `json:"mode"`
	Connections int     `json:"connections"`
	Concurrency int     `json:"concurrency,omitempty"` // closed loop
	Rate        float64 `json:"rate,omitempty"`        // open loop
	// Sent counts requests queued outside the warmup.
	Sent int64 `json:"sent"`
	// Answered counts matched responses, valid or not.
	Answered int64 `json:"answered"`
	// Timeouts counts requests unanswered within Options.Timeout.
	Timeouts int64 `json:"timeouts"`
	// Errors counts requests lost to a failed connection, requests that
	// could not be queued, and responses without a readable STAN.
	Errors int64 `json:"errors"`
	// ConnectionErrors counts connections that failed during the run.
	ConnectionErrors int64 `json:"connection_errors"`
	// Late counts responses that came after their request timed out, or
	// whose STAN matched nothing in flight.
	Late int64 `json:"late"`
	// Warmup counts requests sent during the warmup (not in any statistic).
	Warmup int64 `json:"warmup"`
	// Abandoned counts requests still in flight when the run ended early.
	Abandoned int64 `json:"abandoned"`
	// DurationS is the measured span: from the end of the warmup to the end.
	DurationS      float64 `json:"duration_s"`
	ThroughputPerS float64 `json:"throughput_per_s"` // Answered / DurationS
	Latency        Latency `json:"latency_ms"`
	// Codes counts answered requests by field 39.
	Codes              map[string]int64 `json:"codes"`
	ValidationFailures int64            `json:"validation_failures"`
	// Failures details the first validation failures (PANs masked).
	Failures []Failure `json:"failures"`
	Series   []Point   `json:"series"`
	// ExceededMaxErrors is set when timeouts plus errors passed MaxErrors.
	ExceededMaxErrors bool `json:"exceeded_max_errors"`
	// StoppedEarly says why the run stopped sending before its end (Count,
	// Duration or one pass), "" when it did not: MaxErrors exceeded, every
	// connection failed, or interrupted.
	StoppedEarly string `json:"stopped_early,omitempty"`
}

// Latency percentiles in milliseconds (µs resolution, HDR histogram). In
// open-loop modes each latency counts from the intended send time.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Point is one second of the run (by completion time).
type Point struct {
	T        int     `json:"t"`        // seconds since the start
	Seconds  float64 `json:"seconds"`  // span covered (1 except the last)
	Sent     int64   `json:"sent"`     // requests queued in the span
	Answered int64   `json:"answered"` // responses in the span
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

// Failed reports whether the run should exit non-zero: a validation
// failure, or more timeouts plus errors than maxErrors (negative: never).
func (rep *Report) Failed() bool {
	return rep.ValidationFailures > 0 || rep.ExceededMaxErrors
}

// merge sums the connections' recorders.
func (r *runner) merge(withDetail bool) totals {
	t := totals{hist: newHist(), codes: map[string]int64{}}
	for _, c := range r.conns {
		c.rec.mergeInto(&t, withDetail)
	}
	return t
}

func (r *runner) report(mon *monitor, end int64) *Report {
	mon.finish(end)
	t := r.merge(true)
	sort.SliceStable(t.failures, func(i, j int) bool { return t.failures[i].Line < t.failures[j].Line })
	if len(t.failures) > r.opt.MaxFailures {
		t.failures = t.failures[:r.opt.MaxFailures]
	}
	rep := &Report{
		Target: r.opt.Target, Mode: r.opt.mode(), Connections: len(r.conns),
		Sent: r.sent.Load(), Answered: t.answered, Timeouts: t.timeouts,
		Errors: t.errors + r.sendErrs.Load(), ConnectionErrors: r.connDown.Load(),
		Late: t.late, Warmup: r.warmSent.Load(), Abandoned: r.abandoned.Load(),
		Codes: t.codes, ValidationFailures: t.failed, Failures: t.failures, Series: mon.series,
		Latency: Latency{
			P50: usToMS(t.hist.ValueAtQuantile(50)), P90: usToMS(t.hist.ValueAtQuantile(90)),
			P99: usToMS(t.hist.ValueAtQuantile(99)), P999: usToMS(t.hist.ValueAtQuantile(99.9)),
			Max: usToMS(t.hist.Max()), Mean: t.hist.Mean() / 1000,
		},
	}
	if t.hist.TotalCount() == 0 {
		rep.Latency = Latency{}
	}
	switch rep.Mode {
	case ModeClosed:
		rep.Concurrency = r.opt.Concurrency
	case ModeRate:
		rep.Rate = r.opt.Rate
	}
	if rep.Failures == nil {
		rep.Failures = []Failure{}
	}
	span := time.Duration(end) - r.opt.Warmup
	if span > 0 {
		rep.DurationS = span.Seconds()
		rep.ThroughputPerS = float64(rep.Answered) / rep.DurationS
	}
	rep.ExceededMaxErrors = r.opt.MaxErrors >= 0 && rep.Timeouts+rep.Errors > int64(r.opt.MaxErrors)
	if p := r.early.Load(); p != nil {
		rep.StoppedEarly = *p
	}
	return rep
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
